// The bench build compiles with rootDir ".." (to take in the test harness), so its entry lands in
// dist/bench/src/main.js; dist/main.js is the short name `pnpm bench` and the docs use.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('./dist/main.js', import.meta.url), "import './bench/src/main.js';\n");
