export default (ctx) => ({ ok: true, attempt: ctx.attempt });
