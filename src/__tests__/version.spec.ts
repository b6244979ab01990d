import pkg from '../../package.json';
import { FRONTEND_VERSION } from '../core/version';

describe('FRONTEND_VERSION', () => {
  it('is the version in package.json', () => {
    expect(FRONTEND_VERSION).toBe(pkg.version);
  });
});
