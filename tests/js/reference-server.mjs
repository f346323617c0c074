// A reference automerge-repo 2.x sync server, set up like upstream's automerge-repo-sync-server
// (a file-backed Repo behind a websocket, sharing no document unasked), so that a benchmark can
// drive it and our Rust sync server over the same websocket protocol.
//
//   node reference-server.mjs PORT DATA_DIR
//
// It listens on 127.0.0.1:PORT (0 picks a free port) and keeps its documents in DATA_DIR.
// stdout, one line: "listening <port>" once it accepts connections. On SIGTERM or SIGINT it
// drops its clients, writes every document it holds to DATA_DIR and exits with 0, so that
// all it acknowledged is on disk by then.

import { Repo } from "@automerge/automerge-repo"
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { createServer } from "node:http"
import { WebSocketServer } from "ws"

const [port, dataDir] = process.argv.slice(2)
if (port === undefined || dataDir === undefined) {
  console.error("usage: node reference-server.mjs PORT DATA_DIR")
  process.exit(2)
}

// The Repo connects its network adapter only after reading its storage id from DATA_DIR, and
// the adapter ignores any websocket accepted before that: so listen only once it is connected.
const http = createServer()
const wss = new WebSocketServer({ server: http })
const network = new WebSocketServerAdapter(wss)
const connected = new Promise(resolve => {
  const connect = network.connect.bind(network)
  network.connect = (...args) => {
    connect(...args)
    resolve()
  }
})
const repo = new Repo({
  network: [network],
  storage: new NodeFSStorageAdapter(dataDir),
  peerId: "reference-server",
  // Announce nothing: a client gets (and is kept up to date on) only the documents it asks for.
  sharePolicy: async () => false,
})

// On SIGTERM or SIGINT: documents are saved a little after each change (throttled), so write
// them out now. Only ready handles: Repo.flush() throws on one still loading or unavailable.
let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  http.close()
  for (const socket of wss.clients) socket.terminate()
  wss.close()
  const ready = Object.values(repo.handles).filter(handle => handle.isReady())
  await repo.flush(ready.map(handle => handle.documentId))
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)

await connected
http.listen(Number(port), "127.0.0.1", () => console.log(`listening ${http.address().port}`))
