/**
 * The wire contract between the citrate-ipfs service and its clients: every
 * command under its seed name, with its arguments and result, and the events
 * the service pushes. The shapes are written once, as schemas in
 * @citrate-ipfs/contract; these are their TypeScript types, re-exported under
 * the names clients already use. Types only, so the client bundle carries no
 * schema code.
 */
export type {
  CommandArgs, CommandMap, CommandName, CommandResult, ConfigView, DaemonProgressEvent, DaemonState, DownloadProgress,
  DownloadSourceMode, DownloadStatus, DownloadView, ErrorBody, GatewayConfig, InstallProgress, InstallResult, IpfsStatus,
  ModelEntry, ModelKind, ModelSource, ObjectCodec, ObjectGetResult, ObjectKind, ObjectPutResult, PinProgress, PinResult, PinView,
  RemoveModelResult, ServiceEvent, ServiceEventName,
  StartDaemonResult, StopDaemonResult, UnpinResult, VerifyOutcome
} from '@citrate-ipfs/contract'
