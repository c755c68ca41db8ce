/** What the service pushes over Server-Sent Events: a tagged union (`event` + `data`), like Tauri plugin events. */
import { Type, type Static, type TSchema } from 'typebox'
import { DownloadView } from './download.ts'
import { InstallProgress } from './install.ts'
import { PinProgress } from './pins.ts'
import { PublishProgress } from './publish.ts'
import { DaemonProgressEvent, IpfsStatus } from './status.ts'

const event = <N extends string, D extends TSchema>(name: N, data: D) =>
  Type.Object({ event: Type.Literal(name), data })

export const ServiceEvent = Type.Union([
  event('install-progress', InstallProgress),
  event('daemon-progress', DaemonProgressEvent),
  event('status', IpfsStatus),
  event('download-progress', DownloadView),
  event('pin-progress', PinProgress),
  event('publish-progress', PublishProgress)
])
export type ServiceEvent = Static<typeof ServiceEvent>
export type ServiceEventName = ServiceEvent['event']
