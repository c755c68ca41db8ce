/**
 * Examples under every command's `--help`: one table, keyed by the command's
 * path (`daemon logs`), so a test can check that no command is left without.
 * A command missing here just shows none (a command another branch adds must
 * not break the CLI), and the help test names it.
 */
import type { Command } from 'commander'

type Example = readonly [command: string, what: string]

const CID = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'

export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  '': [
    ['citrate-ipfs install && citrate-ipfs daemon start', 'get kubo and start it'],
    [`citrate-ipfs pull ${CID} --name llama3`, 'download a model, every block verified'],
    ['citrate-ipfs add ./llama3.gguf', 'publish a file and print its ipfs:// link'],
    ['citrate-ipfs completion bash >> ~/.bashrc', 'tab completion for commands and flags']
  ],
  status: [
    ['citrate-ipfs status', 'is kubo installed, is it running, on which ports'],
    ['citrate-ipfs status --json', 'the same for a script ({state, running, peerId, …})']
  ],
  install: [
    ['citrate-ipfs install', 'the kubo release this version is tested with'],
    ['citrate-ipfs install --version latest', 'the newest kubo release'],
    ['citrate-ipfs install --dist-url https://mirror.example/ipfs', 'from a mirror of dist.ipfs.tech']
  ],
  daemon: [
    ['citrate-ipfs daemon start', 'start kubo in the background'],
    ['citrate-ipfs daemon logs -f', "follow kubo's log"]
  ],
  'daemon start': [
    ['citrate-ipfs daemon start', 'start kubo, or use the one already running'],
    ['citrate-ipfs daemon start --json', 'the status as JSON once it answers']
  ],
  'daemon stop': [
    ['citrate-ipfs daemon stop', 'stop kubo gracefully']
  ],
  'daemon status': [
    ['citrate-ipfs daemon status', 'same as citrate-ipfs status']
  ],
  'daemon logs': [
    ['citrate-ipfs daemon logs', 'the last 50 lines'],
    ['citrate-ipfs daemon logs -n 200', 'the last 200 lines'],
    ['citrate-ipfs daemon logs -f', 'keep printing new lines until Ctrl-C (follows a rotated log)']
  ],
  gateway: [
    ['citrate-ipfs gateway set https://gw.example.com', 'use your own gateway after the local daemon'],
    ['citrate-ipfs gateway unset', 'stop using it']
  ],
  'gateway set': [
    ['citrate-ipfs gateway set https://gw.example.com', 'an https gateway'],
    ['citrate-ipfs gateway set http://127.0.0.1:8081', 'http is fine on this machine']
  ],
  'gateway unset': [
    ['citrate-ipfs gateway unset', 'remove external_gateway']
  ],
  config: [
    ['citrate-ipfs config show', 'every [ipfs] key, its value and what it does'],
    ['citrate-ipfs config get api_port', 'one value'],
    ['citrate-ipfs config set max_model_size_gb 30', 'change one value']
  ],
  'config show': [
    ['citrate-ipfs config show', 'every key; defaults marked'],
    ['citrate-ipfs config show --json', 'as JSON']
  ],
  'config get': [
    ['citrate-ipfs config get models_path', 'where models are stored'],
    ['citrate-ipfs config get public_gateways', 'a list, one a line']
  ],
  'config set': [
    ['citrate-ipfs config set max_model_size_gb 30', 'a number'],
    ['citrate-ipfs config set auto_pin false', 'true or false'],
    ['citrate-ipfs config set public_gateways https://ipfs.io,https://dweb.link', 'a list as a,b'],
    ['citrate-ipfs config set fallback_gateway ""', '"" turns a gateway off']
  ],
  serve: [
    ['citrate-ipfs serve --open', 'the API service and the setup UI in a browser'],
    ['citrate-ipfs serve --port 0', 'on any free port']
  ],
  login: [
    ['citrate-ipfs login --open', 'a new login link for the running service, opened']
  ],
  pull: [
    [`citrate-ipfs pull ${CID}`, 'download and verify; run again to resume'],
    [`citrate-ipfs pull ${CID} --name llama3 --filename llama3.gguf`, 'name it'],
    [`citrate-ipfs pull ${CID} --source gateway --limit-rate 20`, 'gateways only, at most 20 MB/s'],
    [`citrate-ipfs pull ${CID} --kind dataset`, 'a dataset']
  ],
  models: [
    ['citrate-ipfs models', 'what is registered'],
    ['citrate-ipfs models verify --all', 'check every model against its CID']
  ],
  'models list': [
    ['citrate-ipfs models list', 'id, kind, size, CID and path of each'],
    ['citrate-ipfs models list --json', 'as JSON']
  ],
  'models show': [
    ['citrate-ipfs models show llama3', 'one model with its metadata']
  ],
  'models rm': [
    ['citrate-ipfs models rm llama3', 'remove it and unpin its content'],
    ['citrate-ipfs models rm llama3 --keep-pin', 'remove it, keep the content pinned']
  ],
  'models verify': [
    ['citrate-ipfs models verify llama3', 'prove its bytes still match its CID'],
    ['citrate-ipfs models verify --all', 'every model']
  ],
  add: [
    ['citrate-ipfs add ./llama3.gguf', 'add to kubo, pin, register; prints ipfs:// and a gateway link'],
    ['citrate-ipfs add ./model-dir --name mymodel', 'a folder, under a name of yours'],
    ['citrate-ipfs add ./llama3.gguf --only-hash', 'just the CID, nothing stored'],
    ['citrate-ipfs add ./llama3.gguf --car llama3.car', 'write a CAR file, no daemon needed']
  ],
  pin: [
    [`citrate-ipfs pin ${CID}`, 'keep it in kubo, fetching what is missing'],
    ['citrate-ipfs pin --registered', 'pin the models auto_pin could not pin']
  ],
  unpin: [
    [`citrate-ipfs unpin ${CID}`, 'let kubo garbage-collect it'],
    [`citrate-ipfs unpin ${CID} --force`, 'even if a registered model uses it']
  ],
  pins: [
    ['citrate-ipfs pins', 'every pin with its name and models'],
    ['citrate-ipfs pins --json', 'one JSON object a line']
  ],
  gc: [
    ['citrate-ipfs gc --dry-run', 'what would be freed'],
    ['citrate-ipfs gc', 'free it']
  ],
  // the fleet (issue 15)
  cluster: [
    ['citrate-ipfs cluster connect http://127.0.0.1:9094', 'use the cluster peer on this machine'],
    ['citrate-ipfs cluster pin llama3 --replication-min 2', 'replicate a registered model to two peers or more']
  ],
  'cluster connect': [
    ['citrate-ipfs cluster connect http://127.0.0.1:9094 --replication-min 2 --replication-max 3', 'no auth, default replication 2..3'],
    ['pass show cluster | citrate-ipfs cluster connect https://cluster.example:9094 --user ops --password-stdin', 'basic auth; the password goes to a 0600 file'],
    ['citrate-ipfs cluster connect https://cluster.example:9094 --token-stdin < token.txt', 'a bearer token']
  ],
  'cluster disconnect': [
    ['citrate-ipfs cluster disconnect', 'forget [ipfs.cluster] and its credential']
  ],
  'cluster status': [
    ['citrate-ipfs cluster status', 'each peer with its kubo and free space'],
    ['citrate-ipfs cluster status --json', 'the same for a script']
  ],
  'cluster pin': [
    [`citrate-ipfs cluster pin ${CID}`, "pin with [ipfs.cluster]'s replication"],
    ['citrate-ipfs cluster pin llama3 --replication-min 2 --replication-max 3 --timeout 1800', 'a registered model, 2..3 replicas, 30 min to get them']
  ],
  'cluster unpin': [
    ['citrate-ipfs cluster unpin llama3', 'unpin from every peer']
  ],
  'cluster pins': [
    ['citrate-ipfs cluster pins', "every cluster pin with each peer's state"],
    [`citrate-ipfs cluster pins ${CID} --json`, 'one pin, for a script']
  ],
  remote: [
    ['citrate-ipfs remote service add fleet https://pins.example/psa --token-stdin < token.txt', 'add a pinning service'],
    ['citrate-ipfs remote pin add llama3', 'pin a registered model there']
  ],
  'remote service': [
    ['citrate-ipfs remote service ls', 'the services (never their tokens)']
  ],
  'remote service add': [
    ['citrate-ipfs remote service add fleet https://pins.example/psa --token-stdin < token.txt', 'the token goes to a 0600 file'],
    ['citrate-ipfs remote service add local http://127.0.0.1:9097', "a cluster's pinsvc endpoint on this machine"]
  ],
  'remote service ls': [
    ['citrate-ipfs remote service ls --json', 'names, endpoints, hasToken']
  ],
  'remote service rm': [
    ['citrate-ipfs remote service rm fleet', 'the service and its token']
  ],
  'remote pin': [
    ['citrate-ipfs remote pin ls', 'remote pins of every status']
  ],
  'remote pin add': [
    ['citrate-ipfs remote pin add llama3 --service fleet', 'follow it to pinned (or failed)'],
    [`citrate-ipfs remote pin add ${CID} --name weights --timeout 3600`, 'any CID, an hour to pin']
  ],
  'remote pin ls': [
    ['citrate-ipfs remote pin ls --service fleet --json', 'one service, for a script'],
    [`citrate-ipfs remote pin ls --cid ${CID}`, 'one CID everywhere']
  ],
  'remote pin rm': [
    ['citrate-ipfs remote pin rm llama3 --service fleet', "remove the model's pin requests there"]
  ],
  get: [
    ['citrate-ipfs get bafyreih…', "a contract's off-chain JSON"],
    ['citrate-ipfs get bafyreih…/metadata/name', 'one field of it'],
    ['citrate-ipfs get QmFolder…/img/logo.svg -o logo.svg', 'a file inside a folder, to a file'],
    ['citrate-ipfs get bafkrei… --max-bytes 1048576 --json', 'at most 1 MiB, as JSON']
  ],
  put: [
    ['echo \'{"owner":"0xabc","image":{"/":"bafkrei…"}}\' | citrate-ipfs put --codec dag-cbor', 'a dag-cbor node from dag-json on stdin'],
    ['citrate-ipfs put metadata.json', 'the same CID as `ipfs add metadata.json`'],
    ['citrate-ipfs put blob.bin --codec raw --car blob.car', 'one raw block, written to a CAR']
  ],
  completion: [
    ['source <(citrate-ipfs completion bash)', 'bash, this shell only'],
    ['citrate-ipfs completion bash >> ~/.bashrc', 'bash, from now on'],
    ["echo 'source <(citrate-ipfs completion zsh)' >> ~/.zshrc", 'zsh (runs the bash completion through bashcompinit)'],
    ['citrate-ipfs completion fish > ~/.config/fish/completions/citrate-ipfs.fish', 'fish']
  ]
}

/** `daemon logs` for that command, '' for the program itself. */
export function commandPath (cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c?.parent != null; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

/** Every command under `root` (itself included), depth first. */
export function allCommands (root: Command): Command[] {
  return [root, ...root.commands.flatMap(allCommands)]
}

/** The examples as they appear under --help: what it does, then the command, so a long command never pushes the words off screen. */
export function formatExamples (examples: readonly Example[]): string {
  return '\nExamples:\n' + examples.map(([c, what]) => `  # ${what}\n  ${c}`).join('\n') + '\n'
}

/** Adds each command's examples after its help text. */
export function addExamples (root: Command): void {
  for (const cmd of allCommands(root)) {
    const examples = EXAMPLES[commandPath(cmd)]
    if (examples != null && examples.length > 0) cmd.addHelpText('after', formatExamples(examples))
  }
}
