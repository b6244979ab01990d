import {
  applyRunSettings,
  runSettingsErrors,
  runSettingsFromConfig
} from '../components/settingsFields';

describe('run settings of the ship dialog', () => {
  const texts = { backend: 'docker', cpu: '2', memory: '4g', timeout: '600', retries: '1' };

  it('writes the choices into metadata.ml_ship and keeps other keys', () => {
    const previous = { name: 'old', schedule: '0 6 * * *', resources: { gpu: 1 } };
    expect(applyRunSettings(previous, 'train', texts)).toEqual({
      name: 'train',
      schedule: '0 6 * * *',
      backend: 'docker',
      resources: { gpu: 1, cpu: 2, memory: '4g' },
      timeout: 600,
      retries: 1
    });
  });

  it('removes keys whose field was emptied', () => {
    const previous = { backend: 'docker', resources: { cpu: 2 }, timeout: 60 };
    const empty = { backend: '', cpu: '', memory: '', timeout: '', retries: '' };
    expect(applyRunSettings(previous, 'train', empty)).toEqual({ name: 'train' });
  });

  it('reads back what it wrote', () => {
    const config = applyRunSettings({}, 'train', texts);
    expect(runSettingsFromConfig(config, 'docker')).toEqual(texts);
  });

  it('explains invalid values', () => {
    expect(runSettingsErrors(texts)).toEqual({});
    expect(
      Object.keys(
        runSettingsErrors({ backend: '', cpu: '-1', memory: 'lots', timeout: '1.5', retries: '99' })
      ).sort()
    ).toEqual(['cpu', 'memory', 'retries', 'timeout']);
  });
});
