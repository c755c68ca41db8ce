/**
 * Unknown commands are found before commander parses: commander would answer
 * `citrate-ipfs pul --help` with the top-level help and exit 0, and its
 * suggestion is a second line our one-line errors drop.
 */
import type { Command } from 'commander'
import { UsageError } from './errors.ts'
import { didYouMean } from './suggest.ts'

/** Throws a UsageError (exit 2) naming the first word that is no command where a command is expected. */
export function checkCommandWords (program: Command, args: readonly string[]): void {
  let cmd = program
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? ''
    if (word === '--') return
    if (word.startsWith('-')) {
      const opt = cmd.options.find(o => o.long === word || o.short === word)
      if (opt != null && (opt.required || opt.optional) && !word.includes('=')) i++
      continue
    }
    if (cmd.commands.length === 0) return
    // commander's implicit `help [command]`: the word after it is checked as a command.
    if (word === 'help') continue
    const sub = cmd.commands.find(c => c.name() === word || c.aliases().includes(word))
    if (sub == null) {
      // A command with its own arguments takes the word as one of them.
      if (cmd.registeredArguments.length > 0) return
      const names = cmd.commands.map(c => c.name())
      const where = cmd === program ? 'command' : `${cmd.name()} command`
      const hint = didYouMean(word, names)
      throw new UsageError(`unknown ${where} "${word}"${hint !== '' ? hint : `; the ${cmd === program ? 'commands' : `${cmd.name()} commands`} are ${names.join(', ')}`}`)
    }
    cmd = sub
  }
}

/** commander's own `(Did you mean --name?)` second line folded into the one line (unknown options). */
export function foldSuggestion (message: string): string {
  return message.replace(/\n\(Did you mean (.+)\?\)\s*$/, ' — did you mean "$1"?')
}
