// The audit's vocabulary: flows of data with a derived location, and findings about them.
import type { AuditConfig } from '../sources/configFile.js';
import type { BundleScan } from '../sources/clientBundle.js';
import type { StackExport } from '../sources/stackExport.js';
import type { AdminRuntime } from '../sources/adminRuntime.js';
import type { ClusterRegistry } from '../sources/clusterRegistry.js';
import type { AuditLogInput } from '../sources/auditLogFile.js';
import type { ResourceFact } from './resources.js';

/** How bad a finding is; `--fail-on` picks the threshold. */
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** Severities from least to most serious. */
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** True when `a` is at least as serious as `b`. */
export function atLeast(a: Severity, b: Severity): boolean {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b);
}

/** One problem the audit found. */
export interface Finding {
  /** Stable rule id, e.g. `flow-outside-country`. */
  rule: string;
  severity: Severity;
  /** One line, in the reader's words. */
  title: string;
  /** The fact that proves it (a value, a region, a line of a file). */
  evidence: string;
  /** Where the evidence was seen: file + pointer, URL, or resource URN. */
  where: string;
  /** The flow it concerns, if any. */
  flowId?: string;
  /**
   * Set when a config key accepts this knowingly: an accepted exception. It never fails the audit by
   * itself (its severity is low), but the verdict names it, and `--fail-on <severity>,accepted` counts it.
   */
  accepted?: { key: string };
}

/** Every kind of data Lectern moves or keeps. */
export type FlowKind =
  | 'media'
  | 'signalling'
  | 'sign-in'
  | 'turn'
  | 'recordings'
  | 'chat'
  | 'logs'
  | 'metrics'
  | 'audit-log'
  | 'pulumi-state'
  | 'dns'
  | 'tls-issuance'
  | 'software-updates'
  | 'control-plane'
  | 'storage'
  | 'compute'
  | 'third-party';

/** Who operates a flow's service, and the country whose law binds that operator. */
export interface FlowOperator {
  name: string;
  /** ISO country whose law binds the operator; null when not established. */
  jurisdiction: string | null;
  /** How it was derived. */
  basis: string;
}

/** Where a flow's data is, and how we know. Never a label typed by an operator. */
export interface Location {
  /** ISO 3166 alpha-2 code; null when unknown or a third party we cannot place. */
  country: string | null;
  /** zone/region: a provider place; global: a worldwide control plane; host: an on-premises host; loopback: this machine. */
  scope: 'zone' | 'region' | 'global' | 'host' | 'loopback' | 'third-party' | 'unknown';
  /** Human name of the place, e.g. `eu-north-1a (Stockholm)`. */
  place: string;
  /** How the location was derived, e.g. `instance availabilityZone in the stack export`. */
  basis: string;
}

/** One flow of data. */
export interface Flow {
  id: string;
  kind: FlowKind;
  /** Short name for the diagram, e.g. `Recordings (S3 lectern-recordings)`. */
  label: string;
  location: Location;
  /** Who can read the data. */
  readers: string;
  /** In transit and at rest. */
  encryption: string;
  retention: string;
  /** Whether the flow carries personal data (media, recordings, chat, logs with IPs, joins). */
  personalData: boolean;
  /** Sources that showed this flow: config file, stack export, live server, client bundle. */
  seenIn: string[];
  /** What the reader must know that the location alone does not say (Local Zone parent region, ...). */
  caveat?: string;
  /** For data at rest: retention in days (null = forever, undefined = unknown) and encryption (undefined = unknown). */
  stored?: { retentionDays: number | null | undefined; encryptedAtRest: boolean | undefined };
  /** A flow the deployment has switched off is listed (greyed) so the map is complete. */
  active: boolean;
  /** Who runs it, under which country's law. */
  operator: FlowOperator;
}

/** A host of the deployment (any number of each role). */
export interface HostSummary {
  name: string;
  role: 'media' | 'turn' | 'other';
  location: Location;
  /** Where the role came from: a `lectern:role` tag, the name, or the only host there is. */
  roleBasis: string;
}

/** Runtime description plus page headers, from a live server or a saved JSON file. */
export interface RuntimeInput {
  source: string;
  runtime: AdminRuntime;
  pageHeaders: { csp: string | null; hsts: string | null } | null;
}

/** Everything the audit was given. Each is optional; at least one is required. */
export interface AuditInputs {
  config?: AuditConfig;
  /** A config that failed validation: reported, never silently replaced by defaults. */
  configProblems?: { source: string; problems: string[] };
  stack?: { source: string; export: StackExport };
  runtime?: RuntimeInput;
  /** The live cluster registry as a node reported it (GET /admin/cluster). */
  cluster?: { source: string; registry: ClusterRegistry };
  /** The live server was audited but its cluster registry could not be fetched: why. */
  clusterUnread?: { source: string; reason: string };
  /** The server's signed audit log (--audit-log), for consent records and deletion receipts. */
  auditLog?: AuditLogInput;
  bundle?: BundleScan;
  /** The Pulumi backend URL (`pulumi whoami -v`), e.g. s3://state?region=eu-north-1. */
  stateUrl?: string;
}

/** The model every check and every report reads. */
export interface DataFlowModel {
  /** The country everything must stay in; null when no input declares one. */
  country: string | null;
  /** Where the country came from. */
  countrySource: string | null;
  /** Hostnames and addresses that are the deployment's own. */
  ownHosts: string[];
  /** The deployment's own domain, subdomains of which are also its own. */
  ownDomain: string | null;
  flows: Flow[];
  /** Every host, any number of each role. */
  hosts: HostSummary[];
  /** Every resource of the stack export, classified (empty without a stack export). */
  resources: ResourceFact[];
  /** deployment.jurisdiction: `location` (default) judges where data is; `operator` also whose law binds its operator. */
  jurisdiction: 'location' | 'operator';
  /** What the operators' jurisdictions mean for this deployment, in plain words; null when nothing is operated abroad. */
  jurisdictionNote: string | null;
}
