/**
 * The pipeline wire types (src/api/pipelines.ts) against the server's OpenAPI spec: a field
 * added, renamed or removed in `pipelines/models.py` fails here instead of in the lab.
 */
import * as fs from 'fs';
import * as path from 'path';

import type * as P from '../api/pipelines';
import { PIPELINE_RUN_STATUSES, STEP_STATUSES } from '../api/pipelines';

const SPEC = path.join(__dirname, '..', '..', 'jupyter_ml_ship', 'server', 'openapi.json');
const EVENT = path.join(
  __dirname, '..', '..', 'jupyter_ml_ship', 'server', 'events', 'pipeline-run-status.v1.json'
);

const fields: Record<string, Record<string, true>> = {
  StepInfo: {
    id: true, job: true, version: true, notebook: true, depends_on: true, parameters: true,
    retries: true, timeout: true, backend: true, cache: true, checks: true, on_degraded: true,
    spark: true, declared_outputs: true, status: true,
    run_id: true, cached: true, outputs: true, error: true, started_at: true, ended_at: true,
    duration: true
  } satisfies Record<keyof P.IStepInfo, true>,
  PipelineDescription: { name: true, path: true, parameters: true, steps: true } satisfies Record<keyof P.IPipelineDescription, true>,
  PipelineVersionInfo: {
    pipeline: true, number: true, digest: true, message: true, author: true, created_at: true,
    parameters: true, steps: true, source_path: true, is_current: true, environments: true,
    git: true
  } satisfies Record<keyof P.IPipelineVersionInfo, true>,
  PipelineRunInfo: {
    id: true, pipeline: true, version: true, status: true, parameters: true, backend: true,
    parallelism: true, use_cache: true, created_at: true, started_at: true, ended_at: true,
    duration: true, error: true, steps: true, started_by: true, notifications: true
  } satisfies Record<keyof P.IPipelineRunInfo, true>,
  PipelineInfo: {
    name: true, current_version: true, latest_version: true, created_at: true, updated_at: true,
    source_path: true, last_run: true, owner: true, owners: true, run_by: true, permissions: true,
    environments: true
  } satisfies Record<keyof P.IPipelineInfo, true>,
  ShipPipelineResult: { pipeline: true, version: true, created: true, trigger_token: true } satisfies Record<keyof P.IShipPipelineResult, true>,
  PipelineList: { pipelines: true } satisfies Record<keyof P.IPipelineList, true>,
  PipelineVersionList: { versions: true } satisfies Record<keyof P.IPipelineVersionList, true>,
  PipelineRunList: { runs: true, next_cursor: true } satisfies Record<keyof P.IPipelineRunList, true>,
  ShipPipelineRequest: { path: true, message: true } satisfies Record<keyof P.IShipPipelineRequest, true>,
  StartPipelineRunRequest: {
    version: true, parameters: true, backend: true, use_cache: true, parallelism: true,
    environment: true
  } satisfies Record<keyof P.IStartPipelineRunRequest, true>,
  PipelineRunStatusEvent: { pipeline_run_id: true, pipeline: true, status: true, steps: true } satisfies Record<keyof P.IPipelineRunStatusEvent, true>
};

const hasSpec = fs.existsSync(SPEC);
const describeSpec = hasSpec ? describe : describe.skip;

/** The enum values of a property, inline or through a $ref (or an anyOf with null). */
function enumOf(schemas: Record<string, any>, prop: any): string[] {
  if (prop.enum) {
    return prop.enum;
  }
  if (prop.$ref) {
    return enumOf(schemas, schemas[prop.$ref.split('/').pop()]);
  }
  const options = (prop.anyOf ?? prop.oneOf ?? []).filter((o: any) => o.type !== 'null');
  return options.length === 1 ? enumOf(schemas, options[0]) : [];
}

describeSpec('src/api/pipelines.ts against openapi.json', () => {
  const schemas = hasSpec ? JSON.parse(fs.readFileSync(SPEC, 'utf-8')).components.schemas : {};

  it.each(Object.keys(fields))('%s has the same fields', name => {
    expect(schemas[name]).toBeDefined();
    expect(Object.keys(fields[name]).sort()).toEqual(Object.keys(schemas[name].properties).sort());
  });

  it('knows every step and pipeline run status', () => {
    // the lab's one list of each, in the spec's order
    expect([...STEP_STATUSES]).toEqual(enumOf(schemas, schemas.StepInfo.properties.status));
    expect([...PIPELINE_RUN_STATUSES]).toEqual(
      enumOf(schemas, schemas.PipelineRunInfo.properties.status)
    );
  });

  it('listens to the event schema the server emits', () => {
    const event = JSON.parse(fs.readFileSync(EVENT, 'utf-8'));
    const { PIPELINE_RUN_STATUS_SCHEMA_ID } = jest.requireActual('../api/pipelines');
    expect(event.$id).toBe(PIPELINE_RUN_STATUS_SCHEMA_ID);
    expect(Object.keys(event.properties).sort()).toEqual(Object.keys(fields.PipelineRunStatusEvent).sort());
    expect([...event.properties.steps.additionalProperties.enum].sort()).toEqual(
      [...STEP_STATUSES].sort()
    );
  });
});
