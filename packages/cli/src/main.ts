#!/usr/bin/env node
/**
 * citrate-ipfs: the command line over @citrate-ipfs/core. Readable output by
 * default, `--json` for scripts; an error is one line on stderr, with a `hint:`
 * line when there is a next step (or a JSON `{"error":{code,message,hint?}}`
 * with --json), and a non-zero exit code.
 */
import { Argument, Command, CommanderError, Option } from 'commander'
import { DEFAULT_GET_MAX_BYTES, DEFAULT_PUT_MAX_BYTES, InvalidArgumentError, MODEL_KINDS, enableLogging } from '@citrate-ipfs/core'
import { getCommand, putCommand } from './commands/getput.ts'
import { makeContext, type Context, type GlobalOptions } from './context.ts'
import { UsageError } from './errors.ts'
import { Output } from './output.ts'
import { statusCommand } from './commands/status.ts'
import { daemonLogs, daemonLogsFollow, daemonStart, daemonStop } from './commands/daemon.ts'
import { installCommand } from './commands/install.ts'
import { configGet, configSet, configShow, gatewaySet, gatewayUnset } from './commands/config.ts'
import { addCommand } from './commands/add.ts'
import { modelsList, modelsRm, modelsShow, modelsVerify } from './commands/models.ts'
import { gcCommand, pinCommand, pinsCommand, unpinCommand } from './commands/pins.ts'
import { pullCommand } from './commands/pull.ts'
import { clusterConnect, clusterDisconnect, clusterPinCommand, clusterPinsCommand, clusterStatusCommand, clusterUnpinCommand } from './commands/cluster.ts'
import { remotePinAddCommand, remotePinLsCommand, remotePinRmCommand, remoteServiceAdd, remoteServiceLs, remoteServiceRm } from './commands/remote.ts'
import { tuneHeap } from './heap.ts'
import { addExamples } from './help.ts'
import { completionScript, completionTable, SHELLS, type Shell } from './completion.ts'
import { checkCommandWords, foldSuggestion } from './unknown-command.ts'

tuneHeap()

const program = new Command()
program
  .name('citrate-ipfs')
  .description('IPFS for Citrate: manage kubo, fetch and publish models by CID')
  .version('0.1.0', '-V, --version', 'print the citrate-ipfs version')
  .option('--json', 'machine-readable JSON output')
  .option('--config <file>', 'config file (default: $CITRATE_HOME/citrate.toml)')
  .option('--verbose', 'explain on stderr what happens (sources tried, their speed, why one was dropped); same as DEBUG=citrate:*')
  // Program options are read before the subcommand only, so a subcommand may
  // have its own --version (install); every command also takes --json/--config.
  .enablePositionalOptions()
  .exitOverride()

/** A subcommand that also accepts the global options after its name. */
function command (parent: Command, nameAndArgs: string, description: string): Command {
  return parent.command(nameAndArgs).description(description)
    .option('--json', 'machine-readable JSON output')
    .option('--config <file>', 'config file (default: $CITRATE_HOME/citrate.toml)')
    .option('--verbose', 'explain on stderr what happens; same as DEBUG=citrate:*')
}

/** Wraps an action: builds the context from the merged global and local options. */
function action<A extends unknown[]> (fn: (ctx: Context, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args.at(-1) as Command
    const positional = args.slice(0, -2) as A
    await fn(await makeContext(cmd.optsWithGlobals<GlobalOptions>()), ...positional)
  }
}
/** Like action, passing the command's own options object first. */
function actionWithOptions<O, A extends unknown[]> (fn: (ctx: Context, opts: O, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args.at(-1) as Command
    const positional = args.slice(0, -2) as A
    await fn(await makeContext(cmd.optsWithGlobals<GlobalOptions>()), cmd.opts() as O, ...positional)
  }
}

command(program, 'status', 'show whether kubo is installed and running').action(action(statusCommand))

command(program, 'install', 'download, verify and install kubo into $CITRATE_HOME/bin')
  .option('--version <version>', 'kubo version, e.g. v0.43.0, or "latest"')
  .option('--dist-url <url>', 'kubo distribution site or mirror')
  .action(actionWithOptions(installCommand))

const daemon = program.command('daemon').description('start, stop and inspect the kubo daemon')
command(daemon, 'start', 'start kubo (or use the one already running on this repo)').action(action(daemonStart))
command(daemon, 'stop', 'stop kubo gracefully (signals after a timeout)').action(action(daemonStop))
command(daemon, 'status', 'same as `citrate-ipfs status`').action(action(statusCommand))
command(daemon, 'logs', "show the end of kubo's log")
  .addOption(new Option('-n, --lines <n>', 'number of lines').default('50'))
  .option('-f, --follow', 'keep printing new lines as kubo writes them, until Ctrl-C (also after the log is rotated)')
  .action(actionWithOptions(async (ctx: Context, opts: { lines: string, follow?: boolean }) => {
    const n = Number.parseInt(opts.lines, 10)
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`--lines must be a positive integer (got "${opts.lines}")`)
    await (opts.follow === true ? daemonLogsFollow(ctx, n) : daemonLogs(ctx, n))
  }))

const gateway = program.command('gateway').description('configure the external gateway')
command(gateway, 'set <url>', 'use <url> as external_gateway (https, or http on loopback; "" removes it)').action(action(gatewaySet))
command(gateway, 'unset', 'remove external_gateway').action(action(gatewayUnset))

const config = program.command('config').description('show or change the configuration')
command(config, 'show', 'print the effective [ipfs] configuration').action(action(configShow))
command(config, 'get <key>', 'print one [ipfs] key\'s effective value (the file\'s, else the default)').action(action(configGet))
command(config, 'set <key> <value>', 'set one [ipfs] key in citrate.toml ("" turns a gateway off; lists as a,b or JSON, "" for none)').action(action(configSet))

command(program, 'serve', 'run the local API service and setup UI on 127.0.0.1')
  .addOption(new Option('--port <n>', 'port (0: any free port)').default('5050'))
  .option('--open', 'open the setup UI in a browser')
  .option('--sidecar', "run as an app's sidecar: stop when stdin closes, and stop the kubo daemon this service started")
  // Loaded when run: the service and its schema validator are half the CLI's start-up, and only `serve` needs them.
  .action(actionWithOptions(async (ctx: Context, opts: { port: string, open?: boolean, sidecar?: boolean }) => { await (await import('./commands/serve.ts')).serveCommand(ctx, opts) }))

command(program, 'login', 'print a new one-time login URL for the running service (the UI in a browser)')
  .addOption(new Option('--port <n>', "the service's port").default('5050'))
  .option('--open', 'open it in a browser')
  .action(actionWithOptions(async (ctx: Context, opts: { port: string, open?: boolean }) => { await (await import('./commands/login.ts')).loginCommand(ctx, opts) }))

// -- commands from other areas register below (pull, add, models, pins, …) --

// pull (issue 3)
command(program, 'pull <cid>', 'download a CID (file or folder), or a path in one (<cid>/dir/file, /ipfs/…, ipfs://…, a gateway link), verifying every block; resumes if interrupted')
  .option('--name <id>', 'registry id and folder name (default: from --filename, else the CID)')
  .option('--filename <name>', 'name of the file or folder inside the model folder (default: the CID)')
  .addOption(new Option('--kind <kind>', 'what it is').choices([...MODEL_KINDS]).default('model'))
  .addOption(new Option('--source <source>', 'where blocks come from').choices(['auto', 'daemon', 'gateway']).default('auto'))
  .option('--no-fsync', 'do not flush to disk before registering (faster on slow disks; not power-cut safe)')
  .option('--limit-rate <MB/s>', 'download bandwidth cap over all sources, in MB/s (0: none; default: max_download_mbps)')
  .action(actionWithOptions(pullCommand))

// models, add, pins (issue 4)
const models = command(program, 'models', 'list the registered models, datasets, checkpoints and assets').action(action(modelsList))
command(models, 'list', 'list the registered models').action(action(modelsList))
command(models, 'show <id>', 'show one registry entry with its metadata').action(action(modelsShow))
command(models, 'rm <id>', 'remove a model from the registry (and unpin it)')
  .option('--keep-pin', 'leave its content pinned in kubo')
  .action(actionWithOptions(modelsRm))
command(models, 'verify [id]', 'prove stored content still matches its CID (no daemon needed)')
  .option('--all', 'verify every registered model')
  .action(actionWithOptions(modelsVerify))

command(program, 'add <path>', 'publish a file or folder: the same CID as `ipfs add`, added to kubo and pinned, or written as a CAR')
  .option('--name <id>', 'registry id (default: derived from the file name)')
  .addOption(new Option('--kind <kind>', 'what it is').choices([...MODEL_KINDS]).default('model'))
  .addOption(new Option('--cid-version <n>', 'CID version').choices(['0', '1']))
  .addOption(new Option('--profile <profile>', 'UnixFS import profile').choices(['unixfs-v0-2015', 'unixfs-v1-2025']))
  .option('--chunker <size-N>', 'fixed chunk size in bytes, as kubo: size-262144')
  .option('--raw-leaves', 'store leaves as raw blocks')
  .option('--no-raw-leaves', 'wrap leaves in UnixFS nodes')
  .option('--only-hash', 'compute the CID only; store nothing')
  .option('--car <file>', 'write the blocks to a CAR file (no daemon needed)')
  .option('--cluster', 'then pin it in the IPFS Cluster ([ipfs.cluster]) and record the replicas')
  .option('--replication-min <n>', 'with --cluster: replicas required (default: [ipfs.cluster] replication_min)')
  .option('--replication-max <n>', 'with --cluster: replicas wanted at most (default: [ipfs.cluster] replication_max)')
  .action(actionWithOptions(addCommand))

command(program, 'pin [cid]', 'pin content in kubo, fetching what is missing (pin_timeout_seconds)')
  .option('--registered', 'pin the registered models auto_pin could not pin (the daemon was not running), from their bytes on disk')
  .option('--timeout <seconds>', 'override pin_timeout_seconds')
  .option('--name <name>', 'name stored with the pin')
  .action(actionWithOptions(pinCommand))
command(program, 'unpin <cid>', 'remove a pin (content used by registry models needs --force)')
  .option('--force', 'unpin even if registry models rely on it')
  .action(actionWithOptions(unpinCommand))
command(program, 'pins', 'list pins with their names and the registry models they back').action(action(pinsCommand))
command(program, 'gc', 'free unpinned blocks in kubo and stale partial downloads')
  .option('--dry-run', 'report what gc would free (kubo blocks and bytes, stale partial downloads); remove nothing')
  .action(actionWithOptions(gcCommand))

// the fleet: IPFS Cluster and pinning services (issue 15)
const cluster = program.command('cluster').description('replicate content across an IPFS Cluster ([ipfs.cluster])')
command(cluster, 'connect <url>', "use the cluster whose REST API is at <url> (https, or http on this machine); a secret is read from stdin, never the command line")
  .option('--user <name>', 'basic-auth user (password: --password-stdin)')
  .option('--password-stdin', 'read the basic-auth password from stdin')
  .option('--token-stdin', 'read a bearer token from stdin')
  .option('--replication-min <n>', 'default replicas required (0: the cluster default, -1: every peer)')
  .option('--replication-max <n>', 'default replicas wanted at most (0: the cluster default, -1: every peer)')
  .option('--timeout <seconds>', 'timeout of one REST call (default 30)')
  .option('--pin-timeout <seconds>', 'how long `cluster pin` waits for its replicas (default 600)')
  .action(actionWithOptions(clusterConnect))
command(cluster, 'disconnect', 'forget the cluster and its credential').action(action(clusterDisconnect))
command(cluster, 'status', "the cluster's peers, each with its kubo and free space").action(action(clusterStatusCommand))
command(cluster, 'pin <cid-or-id>', 'pin in the cluster and follow each peer until the required replicas are pinned')
  .option('--name <name>', 'pin name (default: the model id)')
  .option('--replication-min <n>', 'replicas required (default: replication_min)')
  .option('--replication-max <n>', 'replicas wanted at most (default: replication_max)')
  .option('--timeout <seconds>', 'how long to wait for the replicas (default: pin_timeout_seconds of [ipfs.cluster])')
  .action(actionWithOptions(clusterPinCommand))
command(cluster, 'unpin <cid-or-id>', 'unpin from the whole cluster').action(action(clusterUnpinCommand))
command(cluster, 'pins [cid]', "the cluster's pins with each peer's state").action(action(clusterPinsCommand))

const remote = program.command('remote').description('pin at remote pinning services (IPFS Pinning Service API)')
const remoteService = remote.command('service').description('the pinning services ([ipfs.remote.<name>])')
command(remoteService, 'add <name> <endpoint> [key]', 'add or replace a service (its access token as [key], or better --token-stdin)')
  .option('--token-stdin', 'read the access token from stdin')
  .option('--timeout <seconds>', 'timeout of one request (default 30)')
  .option('--pin-timeout <seconds>', 'how long `remote pin add` waits for pinned (default 600)')
  .action(actionWithOptions(remoteServiceAdd))
command(remoteService, 'ls', 'list the services (never their tokens)').action(action(remoteServiceLs))
command(remoteService, 'rm <name>', 'remove a service and its token').action(action(remoteServiceRm))
const remotePin = remote.command('pin').description('remote pins')
command(remotePin, 'add <cid-or-id>', "ask a service to pin, with our kubo's addresses as origins; follow it until pinned or failed")
  .option('--service <name>', 'the service (default: the only one)')
  .option('--name <name>', 'pin name (default: the model id)')
  .option('--timeout <seconds>', 'how long to wait for pinned (default: pin_timeout_seconds of the service)')
  .action(actionWithOptions(remotePinAddCommand))
command(remotePin, 'ls', 'list remote pins, every status')
  .option('--service <name>', 'one service (default: all)')
  .option('--cid <cid>', 'only this CID')
  .option('--name <name>', 'only this name')
  .action(actionWithOptions(remotePinLsCommand))
command(remotePin, 'rm <cid-or-id>', 'remove the pin requests of a CID at a service')
  .option('--service <name>', 'the service (default: the only one)')
  .action(actionWithOptions(remotePinRmCommand))

// get, put: assets and contract off-chain data (issue 12)
command(program, 'get <cid>', 'print a verified file, raw block or dag-cbor/dag-json node (as JSON) by <cid>[/path]')
  .option('-o, --output <file>', 'write it to a file (atomically) instead of stdout')
  .option('--max-bytes <n>', `refuse anything larger, in bytes (default ${DEFAULT_GET_MAX_BYTES}, 16 MiB)`)
  .addOption(new Option('--source <source>', 'where blocks come from').choices(['auto', 'daemon', 'gateway']).default('auto'))
  .addHelpText('after', `
<cid> may be followed by a path: through folders (<cid>/img/logo.svg) or through the fields and
links of a dag-cbor / dag-json node (<cid>/owner, <cid>/tokens/0/image); /ipfs/<cid>/…,
ipfs://<cid>/… and gateway links (https://<gateway>/ipfs/<cid>/…, https://<cid>.ipfs.<gateway>/…) work too. Every block is verified against its CID; dag-cbor is printed as dag-json
(links as {"/": "<cid>"}, bytes as {"/": {"bytes": "<base64>"}}).`)
  .action(actionWithOptions(getCommand))
command(program, 'put [file]', 'store a file or stdin (-) under the CID kubo gives it; prints the CID and ipfs:// link')
  .addOption(new Option('--codec <codec>', 'how to store it: unixfs = `ipfs add`, raw = `ipfs block put`, dag-json / dag-cbor = `ipfs dag put` of dag-json input').choices(['unixfs', 'raw', 'dag-json', 'dag-cbor']).default('unixfs'))
  .option('--car <file>', 'write a CAR file instead of adding to the daemon (no daemon needed)')
  .option('--no-pin', 'add to the daemon without pinning')
  .option('--max-bytes <n>', `refuse larger input, in bytes (default ${DEFAULT_PUT_MAX_BYTES}, 16 MiB; raw and dag nodes are one block of at most 2 MiB)`)
  .addHelpText('after', `
The pin is recursive: the blocks a dag node links to are kept too when the daemon has them (none is fetched).`)
  .action(actionWithOptions(putCommand))

// completion (issue 13): generated from this same tree; needs no config, so a broken citrate.toml cannot break tab completion.
program.command('completion').description('print a shell completion script (bash, zsh or fish)')
  .addArgument(new Argument('[shell]').choices(SHELLS))
  .option('--json', 'print the command table the scripts are made from, as JSON')
  .action((shell: Shell | undefined, opts: { json?: boolean }) => {
    if (opts.json === true) process.stdout.write(JSON.stringify(completionTable(program)) + '\n')
    else if (shell == null) throw new UsageError(`name a shell: ${SHELLS.join(', ')}`)
    else process.stdout.write(completionScript(program, shell))
  })

async function main (argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  // Before parsing, so option handling itself can be traced; core's loggers write to stderr, never into --json output.
  if (argv.includes('--verbose')) enableLogging('citrate:*')
  // On every command (subcommands copy a parent's settings only when created): commander's own
  // error line is dropped, ours (one line, or the JSON error with --json) is the only one.
  const quiet = { writeErr: (s: string) => { if (!json) process.stderr.write(s) }, outputError: () => {} }
  const configure = (c: Command): void => { c.configureOutput(quiet); for (const sub of c.commands) configure(sub) }
  configure(program)
  addExamples(program)
  try {
    checkCommandWords(program, argv.slice(2))
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0
      const message = foldSuggestion(err.message.replace(/^error: /, ''))
      return new Output(json).error(new UsageError(message))
    }
    return new Output(json).error(err)
  }
}

// Not a top-level await: the packaged executable (npm run package) runs this bundled as CommonJS.
void main(process.argv).then(code => { process.exitCode = code })
