/**
 * The jobs list's filters: search, status, sort, and in team mode Mine / Team (the user owns
 * the job or is in one of its owner groups); and the one permission helper every button uses.
 */
import type { IJobInfo, IJobPermissions, IVisitor } from '../api/types';
import { DEFAULT_JOBS_QUERY, filterJobs, isMine, type IJobsQuery } from '../components/JobsList';
import { may, mayCancel, permitted } from '../core/permissions';

function job(name: string, extra: Partial<IJobInfo> = {}): IJobInfo {
  return {
    name,
    current_version: 1,
    latest_version: 1,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    source_path: `${name}.ipynb`,
    last_run: null,
    schedule: null,
    next_run: null,
    ...extra
  };
}

const grace: IVisitor = { name: 'grace', groups: ['analysts'], admin: false };
const jobs = [
  job('nightly', { owner: 'ada', owners: ['data-science'], run_by: 'team' }),
  job('report', { owner: 'grace' }),
  job('forecast', { owner: 'ada', owners: ['analysts'] }),
  job('legacy') // shipped before team mode: no owner
];
const names = (list: IJobInfo[]) => list.map(j => j.name);
const q = (owner: IJobsQuery['owner'], extra: Partial<IJobsQuery> = {}): IJobsQuery => ({
  ...DEFAULT_JOBS_QUERY,
  owner,
  ...extra
});

describe('Mine / Team', () => {
  it('mine: the owner, or in an owner group', () => {
    expect(isMine(jobs[0], grace)).toBe(false);
    expect(isMine(jobs[1], grace)).toBe(true);
    expect(isMine(jobs[2], grace)).toBe(true);
    expect(isMine(jobs[3], grace)).toBe(false);
  });

  it('an ml-ship admin owns nothing by being admin', () => {
    expect(isMine(jobs[0], { name: 'hopper', groups: ['ml-ship-admins'], admin: true })).toBe(false);
  });

  it('filters the list, sorted by name', () => {
    expect(names(filterJobs(jobs, q('mine'), grace))).toEqual(['forecast', 'report']);
    expect(names(filterJobs(jobs, q('team'), grace))).toEqual(['legacy', 'nightly']);
    expect(names(filterJobs(jobs, q('all'), grace))).toEqual(['forecast', 'legacy', 'nightly', 'report']);
  });

  it('goes with the search and the status filter', () => {
    expect(names(filterJobs(jobs, q('team', { search: 'night' }), grace))).toEqual(['nightly']);
    expect(names(filterJobs(jobs, q('mine', { search: 'night' }), grace))).toEqual([]);
    expect(names(filterJobs(jobs, q('mine', { status: 'never' }), grace))).toEqual(['forecast', 'report']);
  });

  it('is ignored outside team mode (no user)', () => {
    expect(filterJobs(jobs, q('mine'), null)).toHaveLength(4);
    expect(filterJobs(jobs, q('team'))).toHaveLength(4);
  });
});

describe('permissions', () => {
  const refused = (reason: string) => ({ allowed: false, reason });
  const ok = { allowed: true, reason: '' };
  const perms: IJobPermissions = {
    ship: refused('grace may not ship a new version of pipeline team: only its owner ada or an ml-ship admin may'),
    run: ok,
    rollback: refused('grace may not roll back job nightly: only its owner ada or an ml-ship admin may'),
    promote: refused('grace may not promote a version of job nightly: only its owner ada or an ml-ship admin may'),
    cancel: refused('grace may not cancel runs of job nightly: only its owner ada or an ml-ship admin may'),
    delete: refused('grace may not delete job nightly')
  };

  it('everything is allowed when the server sends no permissions (single user)', () => {
    expect(may(undefined, 'rollback')).toEqual(ok);
    expect(permitted(may(null, 'delete'), 'Delete it')).toEqual({ disabled: false, title: 'Delete it' });
  });

  it('a refusal greys the button out with the reason as its tooltip', () => {
    expect(permitted(may(perms, 'rollback'), 'Roll back')).toEqual({
      disabled: true,
      title: 'grace may not roll back job nightly: only its owner ada or an ml-ship admin may'
    });
    expect(permitted(may(perms, 'run'), 'Run')).toEqual({ disabled: false, title: 'Run' });
  });

  it('one may cancel the runs one started', () => {
    expect(mayCancel(perms, 'grace', 'grace')).toEqual(ok);
    expect(mayCancel(perms, 'ada', 'grace').allowed).toBe(false);
    expect(mayCancel(perms, null, 'grace').allowed).toBe(false);
    expect(mayCancel(undefined, 'ada', 'grace')).toEqual(ok);
  });
});
