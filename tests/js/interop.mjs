// A JavaScript automerge-repo 2.x client of our sync server, driven by
// the last test of sync-server/tests/sync.rs over stdin/stdout. It logs in like any URL-only
// client: the session token in the websocket URL's query, the peer id from the login.
//
//   node interop.mjs HOST:PORT TOKEN PEER_ID
//
// stdout, one line each: "created <id>" (a document it made and registered),
// "answer <text>" (what the Rust client wrote into it), "found <text>" (the greeting of
// the Rust client's document, whose id comes on stdin); it then writes a reply into
// that document and waits for "bye" on stdin.

import * as Automerge from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import readline from "node:readline"

const [host, token, peerId] = process.argv.slice(2)
const say = (...words) => console.log(words.join(" "))
const fail = (...words) => {
  console.error(words.join(" "))
  process.exit(1)
}
setTimeout(() => fail("timed out"), 60_000).unref()

const lines = readline.createInterface({ input: process.stdin })
const nextLine = (() => {
  const waiting = []
  const queued = []
  lines.on("line", line => (waiting.length ? waiting.shift()(line) : queued.push(line)))
  return () => new Promise(resolve => (queued.length ? resolve(queued.shift()) : waiting.push(resolve)))
})()

// The document exists and is registered before the repo meets the server, so its first
// announcement is one the server accepts.
const repo = new Repo({ network: [], peerId })
const mine = repo.create({ source: "javascript", greeting: "Grüße aus JavaScript" })
// A client record is registered with the hash of the change that created it.
const creation = Automerge.getAllChanges(mine.doc())
  .map(change => Automerge.decodeChange(change))
  .find(change => change.deps.length === 0).hash
const registered = await fetch(`http://${host}/api/documents`, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({ id: mine.documentId, kind: "client-record", creation }),
})
if (registered.status !== 201) fail("registration refused:", registered.status)
repo.networkSubsystem.addNetworkAdapter(
  new WebSocketClientAdapter(`ws://${host}/sync?token=${encodeURIComponent(token)}`),
)
say("created", mine.documentId)

const answer = await new Promise(resolve => {
  const check = () => {
    const doc = mine.doc()
    if (doc && doc.answer !== undefined) resolve(String(doc.answer))
  }
  mine.on("change", check)
  check()
})
say("answer", answer)

// A client learns of a document from its directory and may ask before the server has it,
// or before the server has decided that this client may read it: the server then says it
// is unavailable, and syncs it to the client once it may. So wait for that. (Asking again
// does not work in automerge-repo 2.5.6: removeFromCache throws on an unavailable handle.)
const findSoon = async url => {
  const handle = await repo.find(url, { allowableStates: ["ready", "unavailable"] })
  await handle.whenReady(["ready"])
  return handle
}
const theirs = await findSoon(`automerge:${await nextLine()}`)
say("found", String(theirs.doc().greeting))
theirs.change(doc => {
  doc.reply = "gelesen"
})

while ((await nextLine()) !== "bye") {}
process.exit(0)
