/**
 * kstatus's documented rules for a custom resource (sigs.k8s.io/cli-utils/pkg/kstatus, as Flux, kpt
 * and `kubectl wait` consumers read them), applied to an object exactly as stored: Terminating when
 * deleting; InProgress when `status.observedGeneration` is behind `metadata.generation` or
 * `Reconciling` is True; Failed when `Stalled` is True; otherwise Current. (The generic rules know
 * nothing of `Ready`: an object that reports a failure only through Ready=False is Current to kstatus,
 * which is why the controller writes Stalled.)
 */

export type KstatusStatus = 'InProgress' | 'Failed' | 'Current' | 'Terminating';

interface Obj {
  metadata?: { generation?: number; deletionTimestamp?: string };
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; message?: string }> };
}

/** The kstatus result and its message. */
export function kstatusOf(value: unknown): { status: KstatusStatus; message: string } {
  const obj = value as Obj;
  if (obj.metadata?.deletionTimestamp !== undefined) return { status: 'Terminating', message: 'Resource scheduled for deletion' };
  const generation = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed !== generation) return { status: 'InProgress', message: `Resource not yet observed: generation ${generation}, observed ${observed}` };
  const conditions = obj.status?.conditions ?? [];
  const reconciling = conditions.find((c) => c.type === 'Reconciling' && c.status === 'True');
  if (reconciling !== undefined) return { status: 'InProgress', message: reconciling.message ?? '' };
  const stalled = conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled !== undefined) return { status: 'Failed', message: stalled.message ?? '' };
  return { status: 'Current', message: 'Resource is current' };
}
