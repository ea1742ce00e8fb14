// The bench build compiles with rootDir ".." (to take in the test harness), so its entry lands in
// dist/bench/src/main.js; dist/main.js is the short name `pnpm bench` and the docs use.
import { copyFileSync, writeFileSync } from 'node:fs';

writeFileSync(new URL('./dist/main.js', import.meta.url), "import './bench/src/main.js';\n");
// The harness runs s3rver from this plain script beside its compiled s3-server.js (tsc copies
// no .mjs): the copy bench (`probe:copy`) starts one.
copyFileSync(
  new URL('../test/harness/s3rver-main.mjs', import.meta.url),
  new URL('./dist/test/harness/s3rver-main.mjs', import.meta.url),
);
