export const USAGE = `edgebridge — MQTT to InfluxDB and Redis, batched, breaker-guarded

Usage:
  edgebridge [run] [--config FILE] [--<key> VALUE ...]   run the gateway (default)
  edgebridge check-config [--config FILE]               validate the configuration and summarise it
  edgebridge print-config [--config FILE]               print the effective configuration, secrets redacted
  edgebridge --dry-run FILE [--config FILE]             route the lines "topic payload" of FILE (- = stdin) and
                                                        print the points and Redis writes they make; connects nowhere
      [--user-property NAME=VALUE ...] [--content-type TYPE]   MQTT 5 properties every dry-run message carries
      [--payload-encoding text|hex|base64]              payloads of FILE written as hex (mosquitto_sub -F '%t %x') or base64
  edgebridge --dry-run --topic T --payload-file PATH ... the same for messages in order, each --topic followed by one of
                                                        --payload-file PATH, --payload-hex HEX, --payload-base64 B64,
                                                        --payload TEXT (binary payloads: Sparkplug BIRTH then DATA)
  edgebridge test FILE... [--config FILE]              run the route test cases of each FILE against the routes and
                                                        report pass/fail with the differences; connects nowhere
  edgebridge --version                                  print the version
  edgebridge --help                                     this text

Configuration, lowest precedence first: defaults, the JSON file (--config or EDGEBRIDGE_CONFIG),
EDGEBRIDGE_* environment variables (secrets also from *_FILE and $CREDENTIALS_DIRECTORY), command-line flags.
The full reference is in docs/configuration.md (installed with the package).

Exit codes: 0 clean stop, 1 runtime failure, 2 usage error, 78 configuration error, 130/143 second signal;
--dry-run: 0 every line decoded, 65 a line rejected, unreadable, unrouted or not subscribed, 66 a FILE unreadable;
test: 0 every case passed, 1 a case failed or a FILE unusable, 78 configuration error.
`;
