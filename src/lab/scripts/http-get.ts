/** Source of a tiny HTTP client run inside a namespace (scraping the exporter where it listens). */

/** argv[2]: URL; prints `<status>\n<body>`; exit code 0 even for HTTP errors, 1 when unreachable. */
export const HTTP_GET_SOURCE = String.raw`
try {
  const response = await fetch(process.argv[2], { signal: AbortSignal.timeout(Number(process.argv[3] || 10000)) });
  process.stdout.write(response.status + '\n' + (await response.text()));
} catch (error) {
  process.stderr.write(String(error && error.message || error) + '\n');
  process.exitCode = 1;
}
`;
