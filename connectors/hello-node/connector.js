'use strict';
// hello-node: the smallest useful connector in Node.js. One table, "greeting", three
// new rows per run; state.cursor is the last id written, so ids continue across runs.

const { run, ProtocolError, ErrorCode } = require('./protocol');

const ROWS_PER_RUN = 3;

run({
  name: 'hello-node',
  version: '1.0.0',

  schema(configuration) {
    return [
      {
        table: 'greeting',
        primaryKey: ['id'],
        columns: { id: 'LONG', message: 'STRING', created_at: 'UTC_DATETIME' },
      },
    ];
  },

  async update({ state, upsert, checkpoint, log }) {
    const cursor = state.cursor === undefined ? 0 : state.cursor;
    if (!Number.isSafeInteger(cursor) || cursor < 0) {
      throw new ProtocolError(ErrorCode.INVALID_PARAMS, `state.cursor must be a non-negative integer, got ${JSON.stringify(cursor)}`);
    }
    // console.log reaches the host as a log message (protocol.js reroutes it): safe to use for debugging.
    console.log(`hello-node: starting after id ${cursor}`);

    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (let id = cursor + 1; id <= cursor + ROWS_PER_RUN; id++) {
      await upsert('greeting', { id, message: `hello #${id}`, created_at: now });
    }
    // Resolves once the host has committed the rows together with the new cursor.
    await checkpoint({ cursor: cursor + ROWS_PER_RUN });
    log('info', `wrote ids ${cursor + 1}..${cursor + ROWS_PER_RUN}`);
  },
});
