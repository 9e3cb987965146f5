// Parse Prometheus text exposition with a real parser: the Prometheus project's own Python client
// (prometheus_client.parser), from the machine's wheel or an installed copy. Not a regex.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

/** One sample as the parser read it. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
/** One metric family. */
export interface Family {
  name: string;
  type: string;
  samples: Sample[];
}

const WHEEL_DIR = '/opt/pypi/files';

function pythonPath(): string {
  let wheels: string[] = [];
  try {
    wheels = readdirSync(WHEEL_DIR).filter((f) => /^prometheus_client-.*\.whl$/.test(f));
  } catch {
    // No wheel directory: an installed prometheus_client must be importable.
  }
  return [...wheels.map((w) => `${WHEEL_DIR}/${w}`), process.env.PYTHONPATH ?? ''].filter(Boolean).join(':');
}

const SCRIPT = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
`;

/** Parse exposition text; throws if it is not valid Prometheus text. */
export function parsePrometheusText(text: string): Family[] {
  const output = execFileSync('python3', ['-c', SCRIPT], { input: text, env: { ...process.env, PYTHONPATH: pythonPath() }, encoding: 'utf8' });
  return JSON.parse(output) as Family[];
}
