/**
 * The side panel's "Schedules" section: every job and pipeline schedule in words, its time zone,
 * next run (the zone's wall clock), last run and its status; edit (a friendly builder beside the
 * raw cron, a time zone), pause and resume without shipping a new version.
 */
import * as React from 'react';

import { StatusChip } from '../components/common';
import { NumberField } from '../components/NumberField';
import { formatDate, formatRelative } from '../core/format';
import { dateLocale, useTrans } from '../core/i18n';
import type { IMlShipPanelSection } from '../tokens';
import {
  builderToCron,
  COMMON_ZONES,
  cronToBuilder,
  describeSchedule,
  formatInZone,
  nextRuns,
  scheduleError,
  type Builder
} from './cronlib';
import type { IScheduleInfo, SchedulesModel } from './model';

/** The days of the week, Sunday first (cron's 0), short, in the lab's language. */
function weekdays(): string[] {
  const format = new Intl.DateTimeFormat(dateLocale() ?? 'en', { weekday: 'short', timeZone: 'UTC' });
  return [0, 1, 2, 3, 4, 5, 6].map(d => format.format(new Date(Date.UTC(2024, 0, 7 + d))));
}

function useModel(model: SchedulesModel): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
}

const pad = (n: number) => String(n).padStart(2, '0');

function TimeInput(props: { hour: number; minute: number; onChange: (h: number, m: number) => void }): JSX.Element {
  const trans = useTrans();
  return (
    <input
      type="time"
      className="jp-mod-styled jp-MlShip-scheduleTime"
      aria-label={trans.__('Time')}
      value={`${pad(props.hour)}:${pad(props.minute)}`}
      onChange={e => {
        const [h, m] = e.target.value.split(':').map(Number);
        if (!isNaN(h) && !isNaN(m)) {
          props.onChange(h, m);
        }
      }}
    />
  );
}

/** The builder: a form per kind of schedule; `custom` is the raw cron. */
function BuilderFields(props: { value: Builder; onChange: (b: Builder) => void }): JSX.Element {
  const trans = useTrans();
  const b = props.value;
  const time = (h: number, m: number) => props.onChange({ ...(b as any), hour: h, minute: m });
  const kinds: [Builder['kind'], string][] = [
    ['daily', trans.__('Every day at')],
    ['hours', trans.__('Every N hours')],
    ['weekdays', trans.__('Weekdays at')],
    ['weekly', trans.__('Weekly on')],
    ['monthly', trans.__('Monthly on day')],
    ['cron', trans.__('Custom (cron)')]
  ];
  const switchTo = (kind: Builder['kind']) => {
    const hm = 'hour' in b ? { hour: b.hour, minute: b.minute } : { hour: 6, minute: 0 };
    const next: Record<Builder['kind'], Builder> = {
      daily: { kind: 'daily', ...hm },
      hours: { kind: 'hours', every: 4, minute: hm.minute },
      weekdays: { kind: 'weekdays', ...hm },
      weekly: { kind: 'weekly', days: [1], ...hm },
      monthly: { kind: 'monthly', day: 1, ...hm },
      cron: { kind: 'cron', cron: builderToCron(b) }
    };
    props.onChange(next[kind]);
  };
  return (
    <div className="jp-MlShip-scheduleBuilder">
      <select
        className="jp-mod-styled"
        aria-label={trans.__('Repeat')}
        value={b.kind}
        onChange={e => switchTo(e.target.value as Builder['kind'])}
      >
        {kinds.map(([k, label]) => (
          <option key={k} value={k}>
            {label}
          </option>
        ))}
      </select>
      {b.kind === 'hours' && (
        <>
          <NumberField
            min={1}
            max={23}
            className="jp-MlShip-scheduleNumber"
            label={trans.__('Hours apart')}
            value={b.every}
            onValid={v => props.onChange({ ...b, every: +v })}
          />
          <span>{trans.__('hours, at minute')}</span>
          <NumberField
            min={0}
            max={59}
            className="jp-MlShip-scheduleNumber"
            label={trans.__('Minute')}
            value={b.minute}
            onValid={v => props.onChange({ ...b, minute: +v })}
          />
        </>
      )}
      {b.kind === 'weekly' && (
        <span className="jp-MlShip-scheduleDays" role="group" aria-label={trans.__('Days')}>
          {weekdays().map((d, i) => (
            <label key={i}>
              <input
                type="checkbox"
                checked={b.days.includes(i)}
                onChange={e =>
                  props.onChange({ ...b, days: e.target.checked ? [...b.days, i] : b.days.filter(x => x !== i) })
                }
              />
              {d}
            </label>
          ))}
        </span>
      )}
      {b.kind === 'monthly' && (
        <NumberField
          min={1}
          max={31}
          className="jp-MlShip-scheduleNumber"
          label={trans.__('Day of month')}
          value={b.day}
          onValid={v => props.onChange({ ...b, day: +v })}
        />
      )}
      {'hour' in b && <TimeInput hour={b.hour} minute={b.minute} onChange={time} />}
    </div>
  );
}

function ScheduleEditor(props: { model: SchedulesModel; schedule: IScheduleInfo }): JSX.Element {
  const trans = useTrans();
  const { model, schedule } = props;
  const [builder, setBuilder] = React.useState<Builder>(() => cronToBuilder(schedule.schedule));
  const [cron, setCron] = React.useState(schedule.schedule);
  const [zone, setZone] = React.useState(schedule.timezone || 'UTC');
  const [serverError, setServerError] = React.useState('');
  const [saving, setSaving] = React.useState(false);
  const onBuilder = (b: Builder) => {
    setBuilder(b);
    if (b.kind !== 'cron') {
      setCron(builderToCron(b));
    }
  };
  const onCron = (text: string) => {
    setCron(text);
    setBuilder({ kind: 'cron', cron: text });
  };
  const error = scheduleError(cron, zone);
  const next = error ? [] : nextRuns(cron, zone, new Date(), 2);
  const save = async () => {
    setSaving(true);
    const said = await model.update(schedule, { cron, timezone: zone });
    setSaving(false);
    setServerError(said);
    if (!said) {
      model.edit(null);
    }
  };
  return (
    <div className="jp-MlShip-scheduleEditor" aria-label={trans.__('Edit the schedule of %1', schedule.name)}>
      <BuilderFields value={builder} onChange={onBuilder} />
      <label className="jp-MlShip-scheduleField">
        <span>{trans.__('Cron')}</span>
        <input
          className="jp-mod-styled"
          aria-label={trans.__('Cron')}
          value={cron}
          spellCheck={false}
          onChange={e => onCron(e.target.value)}
        />
      </label>
      <label className="jp-MlShip-scheduleField">
        <span>{trans.__('Time zone')}</span>
        <input
          className="jp-mod-styled"
          aria-label={trans.__('Time zone')}
          list="jp-MlShip-zones"
          value={zone}
          spellCheck={false}
          onChange={e => setZone(e.target.value.trim())}
        />
        <datalist id="jp-MlShip-zones">
          {COMMON_ZONES.map(z => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </label>
      <div className={`jp-MlShip-scheduleHint${error || serverError ? ' jp-MlShip-item-error' : ''}`} role="status">
        {serverError ||
          (error
            ? trans.__('Not a schedule: %1', error)
            : `${describeSchedule(cron)} (${zone}) · ${trans.__('next')}: ${next
                .map(d => formatInZone(d, zone))
                .join(', ')}`)}
      </div>
      <div className="jp-MlShip-scheduleActions">
        <button className="jp-Button jp-mod-styled jp-mod-reject" onClick={() => model.edit(null)}>
          {trans.__('Cancel')}
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-accept"
          disabled={!!error || saving}
          onClick={() => void save()}
        >
          {trans.__('Save')}
        </button>
      </div>
    </div>
  );
}

function ScheduleRow(props: { model: SchedulesModel; schedule: IScheduleInfo }): JSX.Element {
  const trans = useTrans();
  const { model, schedule: s } = props;
  const key = `${s.kind}:${s.name}`;
  const editing = model.editing === key;
  const [error, setError] = React.useState('');
  const airflow = s.runner === 'airflow';
  const words = describeSchedule(s.schedule) || s.description;
  const toggle = async () => setError(await model.update(s, { paused: !s.paused }));
  return (
    <li className={`jp-MlShip-schedule${s.paused ? ' jp-mod-paused' : ''}`} data-schedule={key}>
      <div className="jp-MlShip-item-main">
        {s.kind === 'job' && model.openJob ? (
          <button
            className="jp-MlShip-linkButton jp-MlShip-item-title jp-MlShip-grow"
            title={trans.__('Open the job %1 (v%2)', s.name, s.version)}
            onClick={() => model.openJob?.(s.name)}
          >
            {s.name}
          </button>
        ) : (
          <span className="jp-MlShip-item-title jp-MlShip-grow" title={`${s.kind} ${s.name} v${s.version}`}>
            {s.name}
          </span>
        )}
        {s.kind === 'pipeline' && <span className="jp-MlShip-muted">{trans.__('pipeline')}</span>}
        {s.paused && <span className="jp-MlShip-scheduleBadge">{trans.__('paused')}</span>}
        {s.last_run_status && <StatusChip status={s.last_run_status} title={trans.__('the last run a tick started')} />}
      </div>
      <div className="jp-MlShip-item-sub jp-MlShip-scheduleWords" title={s.schedule}>
        {words || s.schedule} <code>{s.schedule}</code> <span className="jp-MlShip-scheduleZone">{s.timezone}</span>
        {s.edited && <span className="jp-MlShip-muted" title={trans.__('shipped as %1', s.shipped_schedule ?? '—')}> · {trans.__('edited')}</span>}
      </div>
      <div className="jp-MlShip-item-sub">
        {s.schedule_error ? (
          <span className="jp-MlShip-item-error">{s.schedule_error}</span>
        ) : s.paused ? (
          <span>{trans.__('paused: nothing runs')}</span>
        ) : s.next_run ? (
          <span className="jp-MlShip-scheduleNext" title={formatDate(s.next_run)}>
            {trans.__('next %1', formatInZone(new Date(s.next_run), s.timezone))}
          </span>
        ) : (
          <span>{airflow ? trans.__('run by Airflow') : '—'}</span>
        )}
        <span className="jp-MlShip-dot">·</span>
        <span title={formatDate(s.last_run_at)}>
          {s.last_run_at ? trans.__('last run %1', formatRelative(s.last_run_at)) : trans.__('no run yet')}
        </span>
      </div>
      {!editing && (
        <div className="jp-MlShip-scheduleActions">
          <button
            className="jp-Button jp-mod-minimal jp-mod-styled jp-MlShip-smallButton"
            disabled={airflow}
            title={airflow ? trans.__('Airflow holds this schedule: ship a new version') : trans.__('Change when it runs (no new version)')}
            onClick={() => model.edit(key)}
          >
            {trans.__('Edit')}
          </button>
          <button
            className="jp-Button jp-mod-minimal jp-mod-styled jp-MlShip-smallButton"
            disabled={airflow}
            onClick={() => void toggle()}
          >
            {s.paused ? trans.__('Resume') : trans.__('Pause')}
          </button>
        </div>
      )}
      {error && <div className="jp-MlShip-item-error">{error}</div>}
      {editing && <ScheduleEditor model={model} schedule={s} />}
    </li>
  );
}

export function SchedulesSection(props: { model: SchedulesModel }): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  useModel(model);
  return (
    <section className="jp-MlShip-schedules" aria-label={trans.__('Schedules')}>
      <h3 className="jp-MlShip-sectionTitle">{trans.__('Schedules')}</h3>
      {model.error && <div className="jp-MlShip-empty jp-MlShip-item-error">{model.error}</div>}
      {model.loaded && !model.error && !model.schedules.length && (
        <div className="jp-MlShip-empty">
          {trans.__('No schedules yet: set one in the Ship dialog, or with ml-ship schedule NAME --cron.')}
        </div>
      )}
      <ul className="jp-MlShip-list jp-MlShip-scheduleList">
        {model.schedules.map(s => (
          <ScheduleRow key={`${s.kind}:${s.name}`} model={model} schedule={s} />
        ))}
      </ul>
    </section>
  );
}

/** The panel's Schedules section (below the pipelines). */
export function schedulesSection(model: SchedulesModel): IMlShipPanelSection {
  return {
    id: 'schedules',
    rank: 200,
    refresh: () => model.refresh(),
    render: () => <SchedulesSection model={model} />
  };
}
