/** The pipeline routes of the ml-ship REST API, over the same authenticated requests. */
import { post, seg, type MlShipClient } from '../api/client';
import type {
  IPipelineDescription,
  IPipelineInfo,
  IPipelineList,
  IPipelineRunInfo,
  IPipelineRunList,
  IPipelineVersionInfo,
  IPipelineVersionList,
  IShipPipelineRequest,
  IShipPipelineResult,
  IStartPipelineRunRequest,
  PipelineRunStatus
} from '../api/pipelines';

export class PipelineApi {
  constructor(readonly client: MlShipClient) {}

  private _call<T>(
    path: string,
    init: RequestInit = {},
    query?: Record<string, string | number | null | undefined>
  ): Promise<T> {
    return this.client.call<T>(path, init, query);
  }

  /** The validated graph of a pipeline file (relative to the server root); runs nothing. */
  describe(path: string): Promise<IPipelineDescription> {
    return this._call('pipeline-info', {}, { path });
  }

  /** Ship a pipeline file: its notebooks as job versions, then a pipeline version. */
  ship(request: IShipPipelineRequest): Promise<IShipPipelineResult> {
    return this._call('pipelines', post(request));
  }

  async pipelines(): Promise<IPipelineInfo[]> {
    return (await this._call<IPipelineList>('pipelines')).pipelines;
  }

  pipeline(name: string): Promise<IPipelineInfo> {
    return this._call(`pipelines/${seg(name)}`);
  }

  /** Versions of a pipeline, newest first (each with its steps). */
  async versions(name: string): Promise<IPipelineVersionInfo[]> {
    return (await this._call<IPipelineVersionList>(`pipelines/${seg(name)}/versions`)).versions;
  }

  /** Make a version current again (nothing is deleted). */
  rollback(name: string, version: number): Promise<IPipelineInfo> {
    return this._call(`pipelines/${seg(name)}/rollback`, post({ version }));
  }

  runsOf(
    name: string,
    query: { limit?: number; cursor?: string | null; status?: PipelineRunStatus } = {}
  ): Promise<IPipelineRunList> {
    return this._call(`pipelines/${seg(name)}/runs`, {}, query);
  }

  startRun(name: string, request: IStartPipelineRunRequest): Promise<IPipelineRunInfo> {
    return this._call(`pipelines/${seg(name)}/runs`, post(request));
  }

  run(id: string): Promise<IPipelineRunInfo> {
    return this._call(`pipeline-runs/${seg(id)}`);
  }

  cancel(id: string): Promise<IPipelineRunInfo> {
    return this._call(`pipeline-runs/${seg(id)}/cancel`, post());
  }
}
