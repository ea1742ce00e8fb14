/** The measured datasets: wide rows, narrow rows, and one small database (the fixed cost per job). */
export type DatasetChoice = 'mixed' | 'narrow' | 'small';

const datasetChoices: readonly DatasetChoice[] = ['mixed', 'narrow', 'small'];

/** What `pnpm bench -- [flags]` accepts. */
export interface BenchOptions {
  /** Approximate size of each generated database in MB (default 800, or BENCH_SIZE_MB). */
  sizeMb: number;
  /** Which datasets to measure, in this order (default all, or BENCH_DATASETS). */
  datasets: DatasetChoice[];
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

export const usage = `usage: pnpm bench -- [--size-mb N] [--datasets LIST] [--runs N] [--out FILE] [--no-quarter] [--no-profile] [--seed X]
  --size-mb N    size of each generated database in MB (default 800, or $BENCH_SIZE_MB; the quarter
                 size of the mixed dataset is measured too)
  --datasets L   comma-separated, of mixed (wide rows and bytea), narrow (short rows), small (one
                 database of a few kB: the fixed cost per job); default all, or $BENCH_DATASETS
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

function datasetList(flag: string, text: string | undefined): DatasetChoice[] {
  const list = (text ?? '').split(',').map((item) => item.trim());
  const unknown = list.filter((item) => !(datasetChoices as readonly string[]).includes(item));
  if (list.length === 0 || unknown.length > 0) {
    throw new Error(
      `${flag} expects a comma-separated list of ${datasetChoices.join(', ')}, got ${JSON.stringify(text)}\n${usage}`,
    );
  }
  return [...new Set(list as DatasetChoice[])];
}

/** Flags win over the environment (BENCH_SIZE_MB, BENCH_DATASETS), which wins over the defaults. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const options: BenchOptions = {
    sizeMb: env.BENCH_SIZE_MB ? positiveNumber('BENCH_SIZE_MB', env.BENCH_SIZE_MB) : 800,
    datasets: env.BENCH_DATASETS ? datasetList('BENCH_DATASETS', env.BENCH_DATASETS) : [...datasetChoices],
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
      case '--datasets':
        options.datasets = datasetList(flag, value());
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
