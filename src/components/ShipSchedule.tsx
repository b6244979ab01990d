/**
 * The Ship dialog's schedule: a cron (or preset) and the IANA time zone it is read in
 * (`metadata.ml_ship.schedule` and `metadata.ml_ship.timezone`, default UTC), with the schedule
 * in words and its next run shown as the zone's wall clock.
 */
import * as React from 'react';

import { scheduleHint } from '../core/cron';
import { getTrans, useTrans } from '../core/i18n';
import { COMMON_ZONES, describeSchedule, formatInZone, isZone, nextRuns } from '../schedules/cronlib';
import { Field } from './common';
import type { IShipExtrasTexts } from './settingsFields';

/** Every IANA zone this browser knows, the common ones first (UTC included: Chromium's list
 * leaves it out). */
export function zoneChoices(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  let all: string[] = [];
  try {
    all = intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    all = [];
  }
  return [...new Set([...COMMON_ZONES, ...all])];
}

/** What the schedule fields say under themselves: an error, or the schedule in words and its
 * next run as the zone's wall clock. */
export function shipScheduleHint(
  schedule: string,
  zone: string,
  now: Date = new Date()
): { error?: string; zoneError?: string; hint?: string } {
  const base = scheduleHint(schedule, now, isZone(zone) ? zone : 'UTC');
  if (!isZone(zone)) {
    const trans = getTrans();
    return { ...base, zoneError: trans.__('“%1” is not a known time zone (an IANA name, e.g. Europe/Paris)', zone) };
  }
  const [next] = base.error || !schedule.trim() ? [] : nextRuns(schedule, zone, now, 1);
  if (!next) {
    return base;
  }
  const trans = getTrans();
  return {
    hint: trans.__('Next run: %1 %2 · %3', formatInZone(next, zone), zone, describeSchedule(schedule) || schedule)
  };
}

export function ShipScheduleFields(props: {
  extras: IShipExtrasTexts;
  onChange: (extras: IShipExtrasTexts) => void;
}): JSX.Element {
  const trans = useTrans();
  const { extras, onChange } = props;
  const zone = extras.timezone ?? 'UTC';
  const said = shipScheduleHint(extras.schedule, zone);
  const zones = React.useMemo(zoneChoices, []);
  return (
    <>
      <Field
        label={trans.__('Runs on (cron)')}
        htmlFor="jp-MlShip-schedule"
        error={said.error}
        hint={<span data-schedule-hint>{said.hint}</span>}
      >
        <input
          id="jp-MlShip-schedule"
          name="schedule"
          className={`jp-mod-styled jp-MlShip-input jp-MlShip-code${said.error ? ' jp-mod-error' : ''}`}
          value={extras.schedule}
          placeholder={trans.__('none: runs only when started')}
          spellCheck={false}
          autoComplete="off"
          onChange={e => onChange({ ...extras, schedule: e.currentTarget.value })}
        />
      </Field>
      <Field
        label={trans.__('Time zone')}
        htmlFor="jp-MlShip-timezone"
        error={said.zoneError}
        hint={trans.__('The cron is read in this zone, daylight saving included (default UTC)')}
      >
        <input
          id="jp-MlShip-timezone"
          name="timezone"
          list="jp-MlShip-shipZones"
          className={`jp-mod-styled jp-MlShip-input jp-MlShip-code${said.zoneError ? ' jp-mod-error' : ''}`}
          value={zone}
          placeholder="UTC"
          spellCheck={false}
          autoComplete="off"
          onChange={e => onChange({ ...extras, timezone: e.currentTarget.value.trim() })}
        />
        <datalist id="jp-MlShip-shipZones">
          {zones.map(z => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </Field>
    </>
  );
}
