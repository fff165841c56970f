'use strict';
// A connector for fake_host.py that drives protocol.js through its edge cases;
// configuration.mode picks the behaviour of update.

const { run, stats } = require('../protocol');

const modes = {
  // 2500 upserts, a checkpoint, then 10 upserts and one each of update/delete/truncate.
  async batch(ctx) {
    for (let id = 1; id <= 2500; id++) await ctx.upsert('items', { id });
    await ctx.checkpoint({ n: 2500 });
    for (let id = 2501; id <= 2510; id++) await ctx.upsert('items', { id });
    await ctx.update('items', { id: 1, name: 'one' });
    await ctx.delete('items', { id: 2 });
    await ctx.truncate('other');
  },

  // Many large rows: the host reads slowly, so writes must wait for 'drain'. The summary
  // says how often they did and the most stdout ever held in memory after an await.
  async big(ctx) {
    const rows = ctx.configuration.rows;
    const pad = 'x'.repeat(ctx.configuration.padding);
    let maxBuffered = 0;
    for (let id = 1; id <= rows; id++) {
      await ctx.upsert('items', { id, pad });
      maxBuffered = Math.max(maxBuffered, process.stdout.writableLength);
    }
    await ctx.checkpoint({ n: rows });
    return { drainWaits: stats.drainWaits, maxBuffered };
  },

  async throws(ctx) {
    await ctx.upsert('items', { id: 1 });
    throw new Error('upstream exploded');
  },

  async badOp(ctx) {
    await ctx.upsert('items', [1, 2]);
  },

  // One checkpoint; the summary carries the host's answer. Used for acks, errors and cancel.
  async checkpoint(ctx) {
    await ctx.upsert('items', { id: 1 });
    const answer = await ctx.checkpoint({ n: 1 });
    return { answer };
  },

  // Busy with a long timer: stdin EOF must still end the process at once.
  async sleepy(ctx) {
    await ctx.upsert('items', { id: 1 });
    await new Promise((resolve) => setTimeout(resolve, 60000));
  },

  // Every console method must stay off stdout.
  async console(ctx) {
    console.log('console.log line');
    console.info('console.info line');
    console.debug('console.debug line');
    console.dir({ dir: 'console.dir line' });
    console.table([{ table: 'console.table line' }]);
    console.warn('console.warn line');
    console.error('console.error line');
    for (const level of ['debug', 'info', 'warning', 'error']) await ctx.log(level, `${level} message`);
    return {};
  },
};

run({
  name: 'edge',
  version: '0.0.1',
  secretKeys: ['pin'],
  schema() {
    return [{ table: 'items', primaryKey: ['id'], columns: { id: 'LONG', name: 'STRING' } }];
  },
  test(configuration) {
    return { ok: true, message: `echo: ${configuration.echo}` };
  },
  update(ctx) {
    const mode = modes[ctx.configuration.mode];
    if (!mode) throw new Error(`unknown mode ${ctx.configuration.mode}`);
    return mode(ctx);
  },
});

