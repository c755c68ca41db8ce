/**
 * The `[ipfs]` section of citrate.toml: its keys, defaults and validation.
 * Key names are the seed's snake_case names, so a citrate.toml written for the
 * Rust seed keeps working.
 */
import { isAbsolute, join, resolve } from 'node:path'
import { ConfigError } from '../errors.ts'
import { expandHome } from '../platform.ts'
import { normalizeBaseUrl, normalizeGatewayUrl } from './url.ts'

export interface IpfsConfig {
  /** Use (and start) a local kubo daemon. With false, retrieval is gateway-only. */
  daemon_enabled: boolean
  /** kubo binary: a name looked up on PATH, or a path. */
  daemon_path: string
  api_port: number
  gateway_port: number
  /** A gateway of your own (tried after the local daemon). Empty: none. */
  external_gateway: string
  /** Tried after external_gateway. Empty: none (the default with offline = true). */
  fallback_gateway: string
  use_external_by_default: boolean
  models_path: string
  max_model_size_gb: number
  chunk_size_mb: number
  auto_pin: boolean
  pin_timeout_seconds: number
  /** kubo init profiles applied when the repo is created, e.g. ["lowpower"]. */
  init_profiles: string[]
  /**
   * Run kubo with no network routing (`--offline`): air-gapped machines and
   * tests. Also makes fallback_gateway and public_gateways default to none.
   */
  offline: boolean
  /** Seconds to wait for a starting daemon to answer on its API. */
  start_timeout_seconds: number
  /** Seconds to wait for a graceful stop before signals are sent. */
  stop_timeout_seconds: number
  /** kubo release `install` fetches when no version is given. */
  kubo_version: string
  /** Base URL of the kubo distribution site (a mirror can be named here). */
  dist_url: string
  /** Trustless gateways tried after external_gateway and fallback_gateway (`[]`: none, the default with offline = true). */
  public_gateways: string[]
  /**
   * Flush a download to disk (fdatasync, as it goes and before the commit) so a
   * power cut never leaves a registered model with missing bytes. false trades
   * that for speed where the disk is slower than the network (scratch disks,
   * CI caches), like dpkg's --force-unsafe-io.
   */
  fsync: boolean
  /**
   * Download bandwidth cap in MB/s (10^6 bytes per second) over all sources
   * of a pull; the service applies it to the total of its downloads. 0 = no cap.
   */
  max_download_mbps: number
}

export const KEY_DOCS: Record<keyof IpfsConfig, string> = {
  daemon_enabled: 'use (and start) a local kubo daemon; false means gateway-only retrieval',
  daemon_path: 'kubo binary: a name looked up on PATH, or a path',
  api_port: 'kubo RPC API port, bound to 127.0.0.1',
  gateway_port: 'kubo gateway port, bound to 127.0.0.1',
  external_gateway: 'a gateway of your own, tried after the local daemon (empty: none)',
  fallback_gateway: 'gateway tried after external_gateway (empty: none; default empty when offline = true)',
  use_external_by_default: 'prefer gateways over the local daemon',
  models_path: 'where models are stored',
  max_model_size_gb: 'largest model a pull accepts',
  chunk_size_mb: 'size of the byte ranges a download is split into (at most 64 MiB per request)',
  auto_pin: 'pin downloaded models in the local daemon',
  pin_timeout_seconds: 'how long a pin may take',
  init_profiles: 'kubo init profiles applied when the repo is created',
  offline: 'run kubo with no network routing, and no public gateways unless named (air-gapped machines, tests)',
  start_timeout_seconds: 'how long to wait for a starting daemon',
  stop_timeout_seconds: 'how long to wait for a graceful stop before signals',
  kubo_version: 'kubo release that `install` fetches',
  dist_url: 'base URL of the kubo distribution site',
  public_gateways: 'trustless gateways tried last ([] for none; default [] when offline = true)',
  fsync: 'flush downloads to disk before they are registered (false: faster, not power-cut safe)',
  max_download_mbps: 'download bandwidth cap in MB/s over all sources (0: none)'
}

export const PINNED_KUBO_VERSION = 'v0.43.0'
export const DEFAULT_DIST_URL = 'https://dist.ipfs.tech'
/** Public gateways known to serve trustless (CAR and raw block) responses. */
export const PUBLIC_TRUSTLESS_GATEWAYS: readonly string[] = ['https://trustless-gateway.link', 'https://ipfs.io', 'https://dweb.link']

export function defaultIpfsConfig (citrateHome: string): IpfsConfig {
  return {
    daemon_enabled: true,
    daemon_path: 'ipfs',
    api_port: 5001,
    gateway_port: 8080,
    external_gateway: '',
    fallback_gateway: 'https://ipfs.io',
    use_external_by_default: false,
    models_path: join(citrateHome, 'models'),
    max_model_size_gb: 20,
    chunk_size_mb: 256,
    auto_pin: true,
    pin_timeout_seconds: 300,
    init_profiles: [],
    offline: false,
    start_timeout_seconds: 60,
    stop_timeout_seconds: 15,
    kubo_version: PINNED_KUBO_VERSION,
    dist_url: DEFAULT_DIST_URL,
    public_gateways: [...PUBLIC_TRUSTLESS_GATEWAYS],
    fsync: true,
    max_download_mbps: 0
  }
}

type Kind = 'boolean' | 'string' | 'port' | 'positive' | 'non-negative' | 'string[]' | 'gateway' | 'gateway[]' | 'url' | 'path' | 'version'
const KINDS: Record<keyof IpfsConfig, Kind> = {
  daemon_enabled: 'boolean',
  daemon_path: 'string',
  api_port: 'port',
  gateway_port: 'port',
  external_gateway: 'gateway',
  fallback_gateway: 'gateway',
  use_external_by_default: 'boolean',
  models_path: 'path',
  max_model_size_gb: 'positive',
  chunk_size_mb: 'positive',
  auto_pin: 'boolean',
  pin_timeout_seconds: 'positive',
  init_profiles: 'string[]',
  offline: 'boolean',
  start_timeout_seconds: 'positive',
  stop_timeout_seconds: 'positive',
  kubo_version: 'version',
  dist_url: 'url',
  public_gateways: 'gateway[]',
  fsync: 'boolean',
  max_download_mbps: 'non-negative'
}

export const IPFS_KEYS = Object.keys(KINDS) as Array<keyof IpfsConfig>

export function isIpfsKey (key: string): key is keyof IpfsConfig {
  return Object.hasOwn(KINDS, key)
}

/**
 * Checks one value against its key's rules and returns it normalised
 * (`~` expanded, trailing slashes trimmed). The error names key and value.
 */
export function validateValue<K extends keyof IpfsConfig> (key: K, value: unknown, baseDir: string): IpfsConfig[K] {
  const kind = KINDS[key]
  const bad = (why: string): never => {
    throw new ConfigError(`ipfs.${key} = ${JSON.stringify(value)} is invalid: ${why}`, key)
  }
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean') bad('expected true or false')
      return value as IpfsConfig[K]
    case 'string':
      if (typeof value !== 'string' || value.trim() === '') bad('expected a non-empty string')
      return expandHome(value as string) as IpfsConfig[K]
    case 'path': {
      if (typeof value !== 'string' || value.trim() === '') bad('expected a path')
      const p = expandHome(value as string)
      return (isAbsolute(p) ? p : resolve(baseDir, p)) as IpfsConfig[K]
    }
    case 'port': {
      const n = typeof value === 'bigint' ? Number(value) : value
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) bad('expected a port number from 1 to 65535')
      return n as IpfsConfig[K]
    }
    case 'positive': {
      const n = typeof value === 'bigint' ? Number(value) : value
      if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) bad('expected a number greater than 0')
      return n as IpfsConfig[K]
    }
    case 'non-negative': {
      const n = typeof value === 'bigint' ? Number(value) : value
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) bad('expected a number of 0 or more (0: no limit)')
      return n as IpfsConfig[K]
    }
    case 'string[]':
      if (!Array.isArray(value) || !value.every(v => typeof v === 'string' && /^[a-z0-9-]+$/.test(v))) {
        bad('expected a list of kubo profile names, e.g. ["lowpower"]')
      }
      return value as IpfsConfig[K]
    case 'gateway':
      if (typeof value !== 'string') bad('expected a URL string ("" for none)')
      // "" turns the source off (an air-gapped machine wants no public fallback).
      if (value === '') return '' as IpfsConfig[K]
      try {
        return normalizeGatewayUrl(value as string) as IpfsConfig[K]
      } catch (err) {
        return bad(`gateway URL ${(err as Error).message}`)
      }
    case 'gateway[]': {
      if (!Array.isArray(value) || !value.every(v => typeof v === 'string')) bad('expected a list of gateway URLs ([] for none)')
      return (value as string[]).map((v, i) => {
        if (v === '') return bad(`entry ${i + 1} is empty (use [] for no public gateways)`)
        try {
          return normalizeGatewayUrl(v)
        } catch (err) {
          return bad(`entry ${i + 1}: gateway URL ${JSON.stringify(v)} ${(err as Error).message}`)
        }
      }) as IpfsConfig[K]
    }
    case 'url':
      if (typeof value !== 'string') bad('expected a URL string')
      try {
        return normalizeBaseUrl(value as string) as IpfsConfig[K]
      } catch (err) {
        return bad(`URL ${(err as Error).message}`)
      }
    case 'version':
      if (typeof value !== 'string' || !/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(value)) bad('expected a kubo version such as "v0.43.0"')
      return ((value as string).startsWith('v') ? value : `v${value as string}`) as IpfsConfig[K]
  }
}

export function validateWhole (cfg: IpfsConfig): void {
  if (cfg.api_port === cfg.gateway_port) {
    throw new ConfigError(`ipfs.api_port and ipfs.gateway_port are both ${cfg.api_port}; they must differ`, 'gateway_port')
  }
}
