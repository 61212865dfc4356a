// The registry: the per-endpoint steps in the order a connection goes through them, and the checks
// over the whole run. A new check is one file and one line here.
import { clockSkewCheck } from './clock-skew-check.ts';
import { connectStep } from './connect-step.ts';
import { dnsStep } from './dns-step.ts';
import { httpStep } from './http-step.ts';
import type { EndpointStep } from './probe.ts';
import { routeStep } from './route-step.ts';
import type { RunCheck } from './run-check.ts';
import { tlsStep } from './tls-step.ts';

export const ENDPOINT_STEPS: readonly EndpointStep[] = [routeStep, dnsStep, connectStep, tlsStep, httpStep];

export const RUN_CHECKS: readonly RunCheck[] = [clockSkewCheck];
