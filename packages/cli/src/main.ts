#!/usr/bin/env node
/**
 * citrate-ipfs: the command line over @citrate-ipfs/core. Readable output by
 * default, `--json` for scripts; an error is one line on stderr (or a JSON
 * `{"error":{code,message}}` with --json) and a non-zero exit code.
 */
import { Command, CommanderError, Option } from 'commander'
import { CitrateError, InvalidArgumentError } from '@citrate-ipfs/core'
import { makeContext, type GlobalOptions } from './context.ts'
import { Output } from './output.ts'
import { statusCommand } from './commands/status.ts'
import { daemonLogs, daemonStart, daemonStop } from './commands/daemon.ts'
import { installCommand } from './commands/install.ts'
import { configShow, gatewaySet, gatewayUnset } from './commands/config.ts'

const program = new Command()
program
  .name('citrate-ipfs')
  .description('IPFS for Citrate: manage kubo, fetch and publish models by CID')
  .version('0.1.0')
  .option('--json', 'machine-readable JSON output')
  .option('--config <file>', 'config file (default: $CITRATE_HOME/citrate.toml)')
  .exitOverride()

const globals = (): GlobalOptions => program.opts<GlobalOptions>()
const run = (fn: (ctx: Awaited<ReturnType<typeof makeContext>>) => Promise<void>) => async () => {
  await fn(await makeContext(globals()))
}

program.command('status').description('show whether kubo is installed and running').action(run(statusCommand))

program.command('install')
  .description('download, verify and install kubo into $CITRATE_HOME/bin')
  .option('--version <version>', 'kubo version, e.g. v0.43.0, or "latest"')
  .option('--dist-url <url>', 'kubo distribution site or mirror')
  .action(async (opts: { version?: string, distUrl?: string }) => { await installCommand(await makeContext(globals()), opts) })

const daemon = program.command('daemon').description('start, stop and inspect the kubo daemon')
daemon.command('start').description('start kubo (or use the one already running on this repo)').action(run(daemonStart))
daemon.command('stop').description('stop kubo gracefully (signals after a timeout)').action(run(daemonStop))
daemon.command('status').description('same as `citrate-ipfs status`').action(run(statusCommand))
daemon.command('logs')
  .description("show the end of kubo's log")
  .addOption(new Option('-n, --lines <n>', 'number of lines').default('50'))
  .action(async (opts: { lines: string }) => {
    const n = Number.parseInt(opts.lines, 10)
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`--lines must be a positive integer (got "${opts.lines}")`)
    await daemonLogs(await makeContext(globals()), n)
  })

const gateway = program.command('gateway').description('configure the external gateway')
gateway.command('set <url>').description('use <url> as external_gateway (https, or http on loopback)')
  .action(async (url: string) => { await gatewaySet(await makeContext(globals()), url) })
gateway.command('unset').description('remove external_gateway').action(run(gatewayUnset))

const config = program.command('config').description('show the configuration')
config.command('show').description('print the effective [ipfs] configuration').action(run(configShow))

// -- commands from other areas register below (pull, add, models, pins, …) --

async function main (argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  program.configureOutput({
    writeErr: (s) => { if (!json) process.stderr.write(s) },
    outputError: () => {}
  })
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0
      const message = err.message.replace(/^error: /, '')
      return new Output(json).error(new CitrateError('USAGE', message))
    }
    return new Output(json).error(err)
  }
}

process.exitCode = await main(process.argv)
