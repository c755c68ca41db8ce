/**
 * `citrate-ipfs completion bash|zsh|fish`: a completion script generated from
 * the same commander tree the CLI parses with, so commands, subcommands and
 * flags never drift from what the parser accepts. bash gets a completion
 * function, zsh runs that function through bashcompinit, fish gets its own
 * `complete` lines.
 */
import type { Command } from 'commander'
import { IPFS_KEYS } from '@citrate-ipfs/core'
import { allCommands, commandPath } from './help.ts'

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = typeof SHELLS[number]

export interface CompletionFlag { long?: string, short?: string, description: string, takesValue: boolean, choices?: readonly string[], file: boolean }
export interface CompletionEntry {
  /** `daemon logs`; '' for the program. */
  path: string
  description: string
  subcommands: string[]
  flags: CompletionFlag[]
  /** Values for the first positional argument, where they are known. */
  values: readonly string[]
  /** The positional argument is a file or folder. */
  file: boolean
}

/** Known values of first arguments, beyond the tree itself. */
const VALUES: Readonly<Record<string, readonly string[]>> = {
  'config get': IPFS_KEYS,
  'config set': IPFS_KEYS,
  completion: SHELLS
}

/** The command table: one entry per command, from commander's own definitions. */
export function completionTable (program: Command): CompletionEntry[] {
  return allCommands(program).map((cmd) => {
    const path = commandPath(cmd)
    const flags: CompletionFlag[] = cmd.options.filter(o => !o.hidden).map(o => ({
      ...(o.long != null ? { long: o.long } : {}),
      ...(o.short != null ? { short: o.short } : {}),
      description: o.description,
      takesValue: o.required || o.optional,
      ...(o.argChoices != null ? { choices: o.argChoices } : {}),
      file: /<(file|path)>/.test(o.flags)
    }))
    flags.push({ long: '--help', short: '-h', description: 'show help with examples', takesValue: false, file: false })
    return {
      path,
      description: cmd.description(),
      subcommands: cmd.commands.map(c => c.name()),
      flags,
      values: VALUES[path] ?? cmd.registeredArguments[0]?.argChoices ?? [],
      file: cmd.registeredArguments.some(a => /path|file/.test(a.name()))
    }
  })
}

const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

export function bashCompletion (table: readonly CompletionEntry[]): string {
  const paths = table.filter(e => e.path !== '').map(e => q(e.path))
  const valued = [...new Set(table.flatMap(e => e.flags.filter(f => f.takesValue).flatMap(f => [f.long, f.short]).filter((x): x is string => x != null)))]
  const flagWords = (e: CompletionEntry): string => e.flags.flatMap(f => [f.long, f.short]).filter(x => x != null).join(' ')
  const choiceCases = table.flatMap(e => e.flags.filter(f => f.choices != null).flatMap(f =>
    [f.long, f.short].filter((x): x is string => x != null).map(name => `    ${q(`${e.path}:${name}`)}) COMPREPLY=( $(compgen -W ${q((f.choices ?? []).join(' '))} -- "$cur") ); return ;;`)))
  const fileFlagCases = table.flatMap(e => e.flags.filter(f => f.file).flatMap(f =>
    [f.long, f.short].filter((x): x is string => x != null).map(name => `    ${q(`${e.path}:${name}`)}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;`)))
  const cases = table.map(e => `    ${q(e.path)}) words=${q([...e.subcommands, ...(e.values)].join(' '))}; flags=${q(flagWords(e))}; files=${e.file ? 1 : 0} ;;`)
  return `# citrate-ipfs completion for bash. Load it with:  source <(citrate-ipfs completion bash)
_citrate_ipfs() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" w i nargs=0 skip=0
  (( COMP_CWORD > 0 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    if (( skip )); then skip=0; continue; fi
    case "$w" in
      ${valued.length > 0 ? valued.map(q).join('|') : "''"}) skip=1; continue ;;
      -*) continue ;;
    esac
    case "\${path:+$path }$w" in
      ${paths.join('|')}) path="\${path:+$path }$w"; nargs=0 ;;
      *) nargs=$(( nargs + 1 )) ;;
    esac
  done
  case "$path:$prev" in
${[...choiceCases, ...fileFlagCases].join('\n')}
  esac
  local words="" flags="" files=0
  case "$path" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  elif (( nargs == 0 )) && [[ -n "$words" ]]; then
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  elif (( files )); then
    COMPREPLY=( $(compgen -f -- "$cur") )
  else
    COMPREPLY=()
  fi
}
complete -o filenames -F _citrate_ipfs citrate-ipfs
`
}

export function zshCompletion (table: readonly CompletionEntry[]): string {
  return `# citrate-ipfs completion for zsh. Load it with:  source <(citrate-ipfs completion zsh)
# It is the bash completion run by zsh's bashcompinit.
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit }
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(table).split('\n').slice(1).join('\n')}`
}

export function fishCompletion (table: readonly CompletionEntry[]): string {
  const fq = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  const lines = ['# citrate-ipfs completion for fish. Load it with:  citrate-ipfs completion fish | source', 'complete -c citrate-ipfs -f']
  const top = table.find(e => e.path === '')
  const condition = (path: string): string => {
    if (path === '') return '__fish_use_subcommand'
    const words = path.split(' ')
    return words.map(w => `__fish_seen_subcommand_from ${w}`).join('; and ')
  }
  for (const e of table) {
    const here = condition(e.path)
    const notYet = e.subcommands.length > 0 && e.path !== '' ? `${here}; and not __fish_seen_subcommand_from ${e.subcommands.join(' ')}` : here
    for (const sub of e.subcommands) {
      const d = table.find(x => x.path === (e.path === '' ? sub : `${e.path} ${sub}`))?.description ?? ''
      lines.push(`complete -c citrate-ipfs -n ${fq(notYet)} -a ${fq(sub)} -d ${fq(d)}`)
    }
    if (e.values.length > 0) lines.push(`complete -c citrate-ipfs -n ${fq(here)} -a ${fq(e.values.join(' '))}`)
    if (e.file) lines.push(`complete -c citrate-ipfs -n ${fq(here)} -F`)
    const flags = e === top ? e.flags : e.flags.filter(f => f.long !== '--help')
    for (const f of flags) {
      const parts = [`complete -c citrate-ipfs -n ${fq(here)}`]
      if (f.long != null) parts.push(`-l ${f.long.replace(/^--/, '')}`)
      if (f.short != null) parts.push(`-s ${f.short.replace(/^-/, '')}`)
      if (f.takesValue) parts.push(f.file ? '-r -F' : '-r')
      if (f.choices != null) parts.push(`-a ${fq(f.choices.join(' '))}`)
      parts.push(`-d ${fq(f.description)}`)
      lines.push(parts.join(' '))
    }
  }
  return lines.join('\n') + '\n'
}

export function completionScript (program: Command, shell: Shell): string {
  const table = completionTable(program)
  return shell === 'bash' ? bashCompletion(table) : shell === 'zsh' ? zshCompletion(table) : fishCompletion(table)
}
