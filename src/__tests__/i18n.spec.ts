/**
 * The extension in French: the catalogue the package ships (jupyter_ml_ship/locale/fr_FR/…json,
 * built by scripts/translations.sh) loaded the way JupyterLab's TranslationManager loads a
 * domain, then the texts of the lab's modules read through it.
 */
import * as fs from 'fs';
import * as path from 'path';

import { Gettext, nullTranslator, type ITranslator } from '@jupyterlab/translation';

import { ApiError, errorCodeText, errorMessage } from '../api/client';
import { formatRelative, STATUS_LABELS } from '../core/format';
import { DOMAIN, getTrans, setTranslator } from '../core/i18n';

const CATALOGUE = path.join(
  __dirname,
  '../../jupyter_ml_ship/locale/fr_FR/LC_MESSAGES/jupyter_ml_ship.json'
);

function french(): ITranslator {
  const data = JSON.parse(fs.readFileSync(CATALOGUE, 'utf-8'));
  const bundle = new Gettext({ domain: DOMAIN, locale: 'fr_FR' });
  bundle.loadJSON({ ...data, '': { ...data[''], pluralForms: data[''].plural_forms } }, DOMAIN);
  return { languageCode: 'fr-FR', load: () => bundle };
}

describe('the French catalogue', () => {
  afterEach(() => setTranslator(nullTranslator));

  it('is the domain the lab asks for, with every message translated', () => {
    const data = JSON.parse(fs.readFileSync(CATALOGUE, 'utf-8'));
    expect(data[''].domain).toBe(DOMAIN);
    const empty = Object.entries(data).filter(
      ([id, value]) => id && !(value as string[]).every(v => v)
    );
    expect(empty).toEqual([]);
  });

  it('translates the labels, tables included, in the language of the moment', () => {
    expect(STATUS_LABELS.succeeded).toBe('succeeded');
    setTranslator(french());
    expect(STATUS_LABELS.succeeded).toBe('réussie');
    expect({ ...STATUS_LABELS }.running).toBe('en cours');
    expect(getTrans().__('Ship %1', 'train')).toBe('Livrer train');
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    expect(formatRelative(tenMinutesAgo)).toBe('il y a 10 min');
  });

  it("says a server error code's meaning in French, the server's English message after it", () => {
    const error = new ApiError('not_found', "no job named 'x'", 404);
    expect(errorMessage(error)).toBe("no job named 'x'");
    expect(errorCodeText('not_found')).toBeNull();
    setTranslator(french());
    expect(errorMessage(error)).toBe("Introuvable — no job named 'x'");
    expect(errorMessage(new ApiError('conflict', 'v2 is rejected', 409))).toMatch(/^Refusé/);
    expect(errorCodeText('some_new_code')).toBeNull();
  });
});
