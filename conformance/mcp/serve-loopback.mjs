// Starts the MCP reference server "everything" (Streamable HTTP, endpoint /mcp) on
// 127.0.0.1 only. The server itself listens on every interface; tests must not, so this
// launcher pins its listen() to loopback. Usage: PORT=<free port> node serve-loopback.mjs
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    const cb = args.find((a) => typeof a === "function");
    return listen.call(this, Number(args[0]), "127.0.0.1", cb);
  }
  return listen.apply(this, args);
};

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
process.argv = [process.argv[0], entry, "streamableHttp"];
await import(pathToFileURL(entry).href);
