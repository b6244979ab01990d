/** The Promote dialog's environment choices: the server's, in promotion order, then any other a
 * job points with; the default pair when the server names none. */
import { DEFAULT_ENVIRONMENTS, environmentChoices } from '../components/PromoteDialog';

describe('environmentChoices', () => {
  it('offers the server environments in their order', () => {
    expect(environmentChoices(['dev', 'qa', 'production'], { production: 3 })).toEqual([
      'dev',
      'qa',
      'production'
    ]);
  });

  it('falls back to staging and production, and keeps an environment a job points with', () => {
    expect(environmentChoices(undefined, {})).toEqual(DEFAULT_ENVIRONMENTS);
    expect(environmentChoices([], { canary: 2, production: 1 })).toEqual([
      'staging',
      'production',
      'canary'
    ]);
  });
});
