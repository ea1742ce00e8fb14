/** What `pnpm bench -- [flags]` accepts. */
export interface BenchOptions {
  /** Approximate size of the generated database in MB (default 800). */
  sizeMb: number;
  /** Times each measurement is repeated (default 3). */
  runs: number;
  /** Markdown report path (default docs/benchmarks.md at the repository root). */
  out: string | undefined;
  /** Also measure at a quarter of the size, for the memory-growth check (default true). */
  quarter: boolean;
  /** Run the worker once more under --cpu-prof and summarise where its CPU time goes (default true). */
  profile: boolean;
  /** Seed of the dataset generator (default 0.42). */
  seed: number;
}

export const usage = `usage: pnpm bench -- [--size-mb N] [--runs N] [--out FILE] [--no-quarter] [--no-profile] [--seed X]
  --size-mb N    size of the generated database in MB (default 800; the quarter size is measured too)
  --runs N       repetitions of each measurement (default 3): the median and min-max are reported
  --out FILE     where the markdown report goes (default docs/benchmarks.md)
  --no-quarter   skip the quarter-size pass (then memory growth is not checked)
  --no-profile   skip the --cpu-prof run of the worker
  --seed X       setseed() value of the dataset, from -1 to 1 (default 0.42)`;

function positiveNumber(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${flag} expects a positive number, got ${JSON.stringify(text)}\n${usage}`);
  }
  return value;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    sizeMb: 800,
    runs: 3,
    out: undefined,
    quarter: true,
    profile: true,
    seed: 0.42,
  };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const [flag, inline] = arg.includes('=')
      ? (arg.split(/=(.*)/s, 2) as [string, string])
      : [arg, undefined];
    const value = () => inline ?? argv[++index];
    switch (flag) {
      // pnpm forwards the `--` that separates its own flags from the script's.
      case '--':
        break;
      case '--size-mb':
        options.sizeMb = positiveNumber(flag, value());
        break;
      case '--runs':
        options.runs = Math.round(positiveNumber(flag, value()));
        break;
      case '--out':
        options.out = value();
        break;
      case '--no-quarter':
        options.quarter = false;
        break;
      case '--no-profile':
        options.profile = false;
        break;
      case '--seed': {
        const seed = Number(value());
        if (!Number.isFinite(seed) || seed < -1 || seed > 1)
          throw new Error(`--seed expects -1..1\n${usage}`);
        options.seed = seed;
        break;
      }
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}\n${usage}`);
    }
  }
  return options;
}
