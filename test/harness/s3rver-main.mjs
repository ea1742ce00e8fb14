// The child process the harness runs s3rver in, so that a test can SIGKILL it like a real server.
// Plain JavaScript: it runs under node without a TypeScript loader.
// argv: port directory bucket[,bucket...]
import S3rver from 's3rver';

const [port, directory, buckets] = process.argv.slice(2);
const server = new S3rver({
  port: Number(port),
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: buckets
    .split(',')
    .filter(Boolean)
    .map((name) => ({ name, configs: [] })),
});
await server.run();
process.stdout.write('ready\n');
