/**
 * Team mode: what the current user may do with a job or pipeline, from the `permissions` the
 * server sends with it. One place for every button that greys out with the reason as its
 * tooltip (the jobs list, a job, its versions, the pipeline views).
 */
import type { IJobPermissions, IPermission } from '../api/types';
import { getTrans } from './i18n';

export type Action = keyof IJobPermissions;

const ALLOWED: IPermission = { allowed: true, reason: '' };

/** May the user do `action`? Allowed when the server says nothing (outside team mode). */
export function may(permissions: IJobPermissions | null | undefined, action: Action): IPermission {
  return permissions?.[action] ?? ALLOWED;
}

/**
 * Cancelling a run: the job's owners may, and so may whoever started that run (the server's
 * `permissions.cancel` is about the runs of others).
 */
export function mayCancel(
  permissions: IJobPermissions | null | undefined,
  startedBy: string | null | undefined,
  user: string | null | undefined
): IPermission {
  return startedBy && user && startedBy === user ? ALLOWED : may(permissions, 'cancel');
}

/** A button's `disabled` and `title`: the reason when refused, else its usual tooltip. */
export function permitted(
  permission: IPermission,
  tooltip: string
): { disabled: boolean; title: string } {
  const trans = getTrans();
  return permission.allowed
    ? { disabled: false, title: tooltip }
    : { disabled: true, title: permission.reason || trans.__('Not allowed') };
}
