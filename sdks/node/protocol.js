'use strict';
// protocol.js - the connector side of the connector-host protocol v1, for Node 20,
// no npm packages. One JSON-RPC 2.0 object per line: requests from the host arrive
// on stdin, our answers, records, checkpoints and logs leave on stdout.
//
//   const { run } = require('./protocol');
//   run({
//     name: 'my-connector', version: '1.0.0',
//     schema(configuration) { return [{ table: 't', primaryKey: ['id'], columns: { id: 'LONG' } }]; },
//     selectsTables: true,                    // optional: update reads ctx.tables (run --tables)
//     async update(ctx) {                     // ctx: configuration, state, tables, signal, cancelled
//       await ctx.upsert('t', { id: 1 });     // also ctx.update / ctx.delete / ctx.truncate;
//                                             // a last argument { schema: 'other' } names a schema;
//                                             // upsert/update take { file: { path, data | from } }
//       await ctx.warning('page 3 was empty'); // shown by the host, does not fail the sync
//       await ctx.checkpoint({ cursor: 1 });  // resolves when the host has committed
//       ctx.log('info', 'done');
//     },
//     test(configuration) { return { ok: true, message: 'reachable' }; },  // optional
//   });
//
// stdout carries protocol only: loading this module sends console.log/info/debug/...
// to stderr, and after initialize console.log/info/debug/warn/error to the host as `log`
// messages (in order with ctx.log). Do not write to process.stdout yourself.

const PROTOCOL_VERSIONS = [1]; // major versions this helper speaks, oldest first
const BATCH_MAX_OPS = 1000;
const BATCH_MAX_CHARS = 1 << 20; // ~1 MiB of JSON text (UTF-16 units, close enough)

/** JSON-RPC and connector-host error codes (see the wire contract). */
const ErrorCode = Object.freeze({
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  NOT_INITIALIZED: -32002,
  SCHEMA_INVALID: -32010,
  OPERATION_INVALID: -32011,
  CONFIGURATION_ERROR: -32012,
  SOURCE_ERROR: -32013,
  CANCELLED: -32014,
  UNSUPPORTED_PROTOCOL_VERSION: -32015,
});

/** An error answered with its own code. Throw one (e.g. CONFIGURATION_ERROR) to pick the code;
 *  anything else a connector throws is answered as SOURCE_ERROR. */
class ProtocolError extends Error {
  constructor(code, message, data) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.data = data;
  }
}

/** The host answered one of our requests (a checkpoint) with an error. The connector must stop. */
class HostError extends ProtocolError {
  constructor(error) {
    super(error.code, `host error ${error.code}: ${error.message}`, error.data);
    this.name = 'HostError';
  }
}

/** The host sent `cancel`: pending and later checkpoint()/op calls reject with this. */
class CancelledError extends ProtocolError {
  constructor(reason) {
    super(ErrorCode.CANCELLED, reason ? `cancelled: ${reason}` : 'cancelled');
    this.name = 'CancelledError';
  }
}

/** Counters, mostly for tests: how often a write waited for 'drain', lines written. */
const stats = { linesWritten: 0, drainWaits: 0 };

// ---------------------------------------------------------------------------------------
// stdout: protocol lines only, with backpressure.

const out = process.stdout;

function rerouteConsoleToStderr() {
  // A Console whose "stdout" is stderr; its methods are bound, so copying them over the
  // global console's keeps group indentation, counters and timers consistent.
  const toStderr = new console.Console({ stdout: process.stderr, stderr: process.stderr });
  for (const key of Object.keys(Object.getPrototypeOf(toStderr)).concat(Object.keys(toStderr))) {
    if (typeof toStderr[key] === 'function') console[key] = toStderr[key];
  }
}
rerouteConsoleToStderr();

// Once the session is initialized, console.log/info/debug/warn/error become `log` messages: they
// travel on stdout in order with ctx.log (stderr is another pipe, which the host reads apart, so a
// line there could show before a log written earlier). Before that, and for the other console
// methods, stderr as above.
let consoleToLog = false;
const util = require('util');
const fs = require('fs');
const nodePath = require('path');
for (const [method, level] of [['log', 'info'], ['info', 'info'], ['debug', 'debug'], ['warn', 'warning'], ['error', 'error']]) {
  const toStderr = console[method];
  console[method] = (...args) => {
    if (!consoleToLog) return toStderr(...args);
    send({ jsonrpc: '2.0', method: 'log', params: { level, message: util.format(...args) } });
  };
}

let drained = null; // Promise resolved on the next 'drain', while out's buffer is over its mark
const RESOLVED = Promise.resolve();

/** Writes one protocol line. The promise resolves at once, or after 'drain' when the pipe is
 *  full: awaiting it is the flow control. Lines are queued in call order either way. */
function writeLine(text) {
  stats.linesWritten++;
  if (out.write(text + '\n')) return drained || RESOLVED;
  if (!drained) {
    stats.drainWaits++;
    drained = new Promise((resolve) => out.once('drain', () => { drained = null; resolve(); }));
  }
  return drained;
}

out.on('error', (err) => {
  // EPIPE and friends: the host is gone and nobody can read what we write.
  process.stderr.write(`protocol: stdout failed (${err.code || err.message}); exiting\n`);
  process.exit(1);
});

/** Exits once every queued protocol line has reached the pipe (pipe writes are async on POSIX). */
function exitAfterFlush(status) {
  out.write('', () => process.exit(status));
}

function send(message) {
  return writeLine(JSON.stringify(message));
}

function sendResult(id, result) {
  return send({ jsonrpc: '2.0', id, result });
}

function sendError(id, code, message, data) {
  const error = data === undefined ? { code, message } : { code, message, data };
  return send({ jsonrpc: '2.0', id, error });
}

// ---------------------------------------------------------------------------------------
// Our requests to the host (checkpoint) and their answers.

let nextRequestId = 1;
const pending = new Map(); // id -> { resolve, reject }

function request(method, params) {
  const id = nextRequestId++;
  const answered = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  // "method" before "params": the host has a fast path for that order.
  send({ jsonrpc: '2.0', id, method, params });
  return answered;
}

function handleResponse(message) {
  const waiter = pending.get(message.id);
  if (!waiter) {
    process.stderr.write(`protocol: ignoring an answer to unknown request id ${JSON.stringify(message.id)}\n`);
    return;
  }
  pending.delete(message.id);
  if (message.error) waiter.reject(new HostError(message.error));
  else waiter.resolve(message.result);
}

function rejectAllPending(error) {
  for (const waiter of pending.values()) waiter.reject(error);
  pending.clear();
}

// ---------------------------------------------------------------------------------------
// log notifications

const LOG_LEVELS = new Set(['debug', 'info', 'warning', 'error', 'fine', 'severe', 'critical']);

/** Sends a `log` notification; level is debug|info|warning|error (or fine|severe|critical). */
function log(level, message) {
  if (!LOG_LEVELS.has(level)) throw new TypeError(`unknown log level ${JSON.stringify(level)}`);
  return send({ jsonrpc: '2.0', method: 'log', params: { level, message: String(message) } });
}

// ---------------------------------------------------------------------------------------
// update: the records batch, checkpoints, cancellation.

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** State of one running `update` request; its public face is the `ctx` given to the connector. */
class UpdateSession {
  constructor(params) {
    this.batch = []; // ops already serialized to JSON text
    this.batchChars = 0;
    this.abort = new AbortController();
    this.cancelReason = null;
    this.fileStaging = params.fileStaging; // the host's folder for staged file uploads (PROTOCOL.md 6.11)
    this.uploads = 0;
    const session = this;
    this.ctx = {
      configuration: params.configuration,
      state: params.state,
      /** The tables the host asked for (`run --tables`), as `{table, schema?}` objects; null for
       *  every table. Set only for a connector run with `selectsTables: true`. */
      tables: params.tables,
      /** Whether the host wants the ops of `table` (of destination schema `schema`, if any). */
      isSelected: (table, schema) =>
        params.tables === null ||
        params.tables.some((t) => t.table === table && (t.schema === undefined ? schema === undefined : t.schema === schema)),
      /** Aborted when the host sends `cancel`. */
      signal: this.abort.signal,
      get cancelled() { return session.abort.signal.aborted; },
      // options: { schema } puts the table in another destination schema (Fivetran's schema=).
      // A Buffer or Uint8Array value is sent base64-encoded with a BINARY type hint.
      // options: { file: { path, data } } (data a Buffer, Uint8Array or string) or
      // { file: { path, from } } (a local file, copied) attaches a file to the row (Fivetran's
      // FileUpload): stored under files/storage/<schema>/<table>/<path> when its checkpoint commits.
      // { file: { ..., expectedBytes } } fails the op when the size differs.
      upsert: (table, data, options) => session.add('upsert', table, 'data', data, options),
      update: (table, data, options) => session.add('update', table, 'data', data, options),
      delete: (table, keys, options) => session.add('delete', table, 'keys', keys, options),
      truncate: (table, options) => session.add('truncate', table, undefined, undefined, options),
      checkpoint: (state) => session.checkpoint(state),
      /** A warning for the user that does not fail the sync (the host shows the first 10). */
      warning: (message) => session.warning(message),
      log,
    };
  }

  throwIfCancelled() {
    if (this.abort.signal.aborted) throw new CancelledError(this.cancelReason);
  }

  /** Queues one op; the promise resolves when it is safe to go on (see writeLine). */
  add(op, table, field, value, options) {
    this.throwIfCancelled();
    if (typeof table !== 'string' || table === '') throw new TypeError(`${op}: table must be a non-empty string`);
    const schema = options && options.schema;
    if (schema !== undefined && (typeof schema !== 'string' || schema.trim() === '')) {
      throw new TypeError(`${op} on ${table}: options.schema must be a non-empty string`);
    }
    const message = schema === undefined ? { op, table } : { op, table, schema };
    const file = options && options.file;
    if (file !== undefined && op !== 'upsert' && op !== 'update') {
      throw new TypeError(`${op} on ${table}: options.file is for upsert and update only`);
    }
    let text;
    if (field === undefined) {
      text = JSON.stringify(message);
    } else {
      if (!isObject(value)) throw new TypeError(`${op} on ${table}: ${field} must be an object`);
      let row = value;
      let types;
      for (const [name, cell] of Object.entries(value)) {
        if (cell instanceof Uint8Array) {
          if (row === value) row = { ...value };
          row[name] = Buffer.from(cell.buffer, cell.byteOffset, cell.byteLength).toString('base64');
          if (op !== 'delete') (types = types || {})[name] = 'BINARY';
        }
      }
      message[field] = row;
      if (types) message.types = types;
      if (file !== undefined) message.file = this.stageFile(op, table, file);
      text = JSON.stringify(message);
    }
    this.batch.push(text);
    this.batchChars += text.length + 1;
    if (this.batch.length >= BATCH_MAX_OPS || this.batchChars >= BATCH_MAX_CHARS) return this.flush();
    return drained || RESOLVED;
  }

  /** Writes a file op's bytes to a new file of the host's staging folder and returns the op's
   *  `file` member, `{path, source, size}` (PROTOCOL.md 6.11). */
  stageFile(op, table, file) {
    const where = `${op} on ${table}: options.file`;
    if (!isObject(file) || typeof file.path !== 'string' || file.path === '') {
      throw new TypeError(`${where} must be { path, data } or { path, from } with a non-empty path`);
    }
    if (!this.fileStaging) {
      throw new Error('file uploads need a host that supports them: this host gave no fileStaging folder in the update request (update connector-host)');
    }
    const source = nodePath.join(this.fileStaging, `upload-${process.pid}-${++this.uploads}`);
    if (file.from !== undefined) {
      if (typeof file.from !== 'string') throw new TypeError(`${where}.from must be a file path`);
      fs.copyFileSync(file.from, source, fs.constants.COPYFILE_EXCL);
    } else if (typeof file.data === 'string' || file.data instanceof Uint8Array) {
      fs.writeFileSync(source, file.data, { flag: 'wx' });
    } else {
      throw new TypeError(`${where}.data must be a Buffer, a Uint8Array or a string (or give from: a file path)`);
    }
    const size = fs.statSync(source).size;
    if (file.expectedBytes !== undefined && file.expectedBytes !== size) {
      fs.unlinkSync(source);
      throw new Error(`${where} ${JSON.stringify(file.path)}: expectedBytes is ${file.expectedBytes} but the file has ${size} bytes`);
    }
    return { path: file.path, source, size };
  }

  /** Sends a `warning` notification after the ops queued before it. */
  async warning(message) {
    this.throwIfCancelled();
    if (typeof message !== 'string' || message.trim() === '') throw new TypeError('warning: message must be a non-empty string');
    await this.flush();
    return send({ jsonrpc: '2.0', method: 'warning', params: { message } });
  }

  /** Sends the batch as one `records` notification. */
  flush() {
    if (this.batch.length === 0) return drained || RESOLVED;
    const line = '{"jsonrpc":"2.0","method":"records","params":{"ops":[' + this.batch.join(',') + ']}}';
    this.batch = [];
    this.batchChars = 0;
    return writeLine(line);
  }

  /** Flushes, asks the host to commit everything sent so far with `state`, and resolves
   *  with the host's answer. Rejects with HostError or CancelledError. */
  async checkpoint(state) {
    this.throwIfCancelled();
    if (!isObject(state)) throw new TypeError('checkpoint: state must be an object');
    await this.flush();
    this.throwIfCancelled();
    return request('checkpoint', { state });
  }

  cancel(reason) {
    if (this.abort.signal.aborted) return;
    this.cancelReason = reason;
    this.abort.abort(new CancelledError(reason));
    rejectAllPending(new CancelledError(reason));
  }
}

// ---------------------------------------------------------------------------------------
// Dispatch of the host's messages.

function errorAnswer(err, defaultCode) {
  if (err instanceof ProtocolError && Number.isInteger(err.code)) {
    return { code: err.code, message: err.message, data: err.data };
  }
  const isError = err instanceof Error;
  return {
    code: defaultCode,
    message: isError ? err.message || String(err) : String(err),
    data: { type: isError ? err.name || err.constructor.name : typeof err, traceback: isError ? String(err.stack) : '' },
  };
}

/** Starts serving the protocol on stdin/stdout with `connector`'s callbacks. */
function run(connector) {
  if (!connector || typeof connector.update !== 'function' || typeof connector.schema !== 'function') {
    throw new TypeError('run(connector): connector needs schema() and update() functions');
  }
  let initialized = false;
  let session = null; // the running update, if any
  const ignoredNotifications = new Set();
  let requestQueue = RESOLVED;

  const handlers = {
    initialize(params) {
      if (initialized) throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'already initialized');
      const requested = params.protocolVersion;
      const version = PROTOCOL_VERSIONS.includes(requested) ? requested : PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.length - 1];
      initialized = true;
      consoleToLog = true;
      const result = {
        protocolVersion: version,
        connector: { name: connector.name || 'connector', version: connector.version || '0.0.0' },
        capabilities: { test: typeof connector.test === 'function', selectTables: connector.selectsTables === true },
      };
      // Configuration keys whose values the host must mask, beyond those whose names look secret.
      if (Array.isArray(connector.secretKeys) && connector.secretKeys.length > 0) result.secretKeys = connector.secretKeys;
      return result;
    },
    async schema(params) {
      const tables = await connector.schema(params.configuration || {});
      return { tables: Array.isArray(tables) ? tables : tables.tables };
    },
    async test(params) {
      if (typeof connector.test !== 'function') {
        throw new ProtocolError(ErrorCode.METHOD_NOT_FOUND, 'method not found: test (capabilities.test is false)');
      }
      return connector.test(params.configuration || {});
    },
    async update(params) {
      if (session) throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'an update is already running');
      const tables = connector.selectsTables === true && Array.isArray(params.tables) ? params.tables : null;
      session = new UpdateSession({
        configuration: params.configuration || {}, state: params.state || {}, tables,
        fileStaging: typeof params.fileStaging === 'string' ? params.fileStaging : null,
      });
      const current = session;
      try {
        const summary = await connector.update(current.ctx);
        await current.flush();
        return isObject(summary) ? { summary } : {};
      } catch (err) {
        // Ops after the last checkpoint are dropped: the host rolls them back anyway.
        if (current.abort.signal.aborted && !(err instanceof HostError)) throw new CancelledError(current.cancelReason);
        throw err;
      } finally {
        session = null;
      }
    },
    shutdown() {
      return {}; // then the host closes stdin and we exit 0 (see onEnd)
    },
  };

  async function handleRequest(id, method, params) {
    if (!initialized && method !== 'initialize') return sendError(id, ErrorCode.NOT_INITIALIZED, 'not initialized');
    const handler = Object.prototype.hasOwnProperty.call(handlers, method) ? handlers[method] : null;
    if (!handler) return sendError(id, ErrorCode.METHOD_NOT_FOUND, `method not found: ${method}`);
    if (params !== undefined && !isObject(params)) {
      return sendError(id, ErrorCode.INVALID_PARAMS, `${method}: params must be an object`);
    }
    let result;
    try {
      result = await handler(params || {});
    } catch (err) {
      // The stack travels in the answer's data.traceback: the host shows it once (not also from stderr).
      const e = errorAnswer(err, ErrorCode.SOURCE_ERROR);
      return sendError(id, e.code, e.message, e.data);
    }
    try {
      return sendResult(id, result === undefined ? {} : result);
    } catch (err) { // e.g. a BigInt or a cycle in what the connector returned
      return sendError(id, ErrorCode.INTERNAL_ERROR, `${method}: result is not JSON: ${err.message}`);
    }
  }

  function handleNotification(method, params) {
    if (method === 'cancel') {
      const reason = isObject(params) && typeof params.reason === 'string' ? params.reason : '';
      if (session) session.cancel(reason);
      return;
    }
    if (!ignoredNotifications.has(method)) {
      ignoredNotifications.add(method);
      process.stderr.write(`protocol: ignoring unknown notification ${JSON.stringify(method)}\n`);
    }
  }

  function handleLine(text, lineNumber) {
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    let message;
    try {
      message = JSON.parse(text);
    } catch (err) {
      sendError(null, ErrorCode.PARSE_ERROR, `parse error on line ${lineNumber}: ${err.message}`);
      return;
    }
    if (!isObject(message)) {
      sendError(null, ErrorCode.INVALID_REQUEST, `line ${lineNumber}: expected one JSON-RPC object`);
      return;
    }
    const hasId = Object.prototype.hasOwnProperty.call(message, 'id');
    const idIsValid = typeof message.id === 'string' || Number.isInteger(message.id);
    if (typeof message.method === 'string') {
      if (!hasId) handleNotification(message.method, message.params);
      else if (!idIsValid) sendError(null, ErrorCode.INVALID_REQUEST, `line ${lineNumber}: id must be an integer or a string`);
      else {
        // Requests are served one at a time, in arrival order (answers keep that order);
        // responses and notifications (checkpoint acks, cancel) are handled at once.
        const { id, method, params } = message;
        requestQueue = requestQueue
          .then(() => handleRequest(id, method, params))
          .catch((err) => process.stderr.write(`protocol: could not answer ${method}: ${err && err.stack ? err.stack : err}\n`));
      }
    } else if (hasId && ('result' in message || 'error' in message)) {
      handleResponse(message);
    } else {
      sendError(idIsValid ? message.id : null, ErrorCode.INVALID_REQUEST, `line ${lineNumber}: neither a request, a notification nor a response`);
    }
  }

  // Line reader: split raw bytes on "\n" and decode each whole line, so a UTF-8
  // character split across two reads is never broken.
  let partial = []; // Buffers of the current, unterminated line
  let lineNumber = 0;
  process.stdin.on('data', (chunk) => {
    let start = 0;
    let newline;
    while ((newline = chunk.indexOf(10, start)) !== -1) {
      const tail = chunk.subarray(start, newline);
      const bytes = partial.length ? Buffer.concat([...partial, tail]) : tail;
      partial = [];
      handleLine(bytes.toString('utf8'), ++lineNumber);
      start = newline + 1;
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
  });
  process.stdin.on('end', () => {
    if (partial.length) handleLine(Buffer.concat(partial).toString('utf8'), ++lineNumber);
    partial = [];
    // The contract: exit 0 on stdin EOF, whatever is still running. setImmediate lets
    // answers to the lines just handled be queued first.
    if (session) session.cancel('stdin closed');
    setImmediate(() => exitAfterFlush(0));
  });
}

module.exports = { run, log, stats, ErrorCode, ProtocolError, HostError, CancelledError };
