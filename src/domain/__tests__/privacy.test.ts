import { CATALOGUE, EVENT_NAMES, publicEventCarriesPersonalData } from '../catalogue';
import { redactFiscalCodes, subjectHash, subjectsOf } from '../privacy';

describe('personal data in the domain', () => {
  it('the catalogue names the personal fields of every event that has a fiscal code', () => {
    expect(EVENT_NAMES.filter((name) => CATALOGUE[name].personalFields.includes('fiscalCode')).sort()).toEqual(['profile:completed', 'profile:service-preferences-changed', 'service:subscribed']);
    expect([publicEventCarriesPersonalData('service:subscribed'), publicEventCarriesPersonalData('ping'), publicEventCarriesPersonalData('nope')]).toEqual([true, false, false]);
    expect(subjectsOf({ name: 'profile:completed', payload: { fiscalCode: 'RSSNNA80A41H501X', servicePreferencesMode: 'AUTO' } })).toEqual(['RSSNNA80A41H501X']);
    expect(subjectsOf({ name: 'ping', payload: { name: 'RSSNNA80A41H501X' } })).toEqual([]);
  });

  it('hashes a subject with the key (another key, another hash), never showing the code', () => {
    const a = subjectHash({ key: 'k'.repeat(32), subject: 'RSSNNA80A41H501X' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(subjectHash({ key: 'j'.repeat(32), subject: 'RSSNNA80A41H501X' })).not.toBe(a);
  });

  it('redacts every fiscal code in a text, whatever surrounds it or its case', () => {
    expect(redactFiscalCodes('event {"fiscalCode":"RSSNNA80A41H501X"} and rssnna80a41h501x,BRNBRN70B12F205Z.')).toBe('event {"fiscalCode":"[fiscal code]"} and [fiscal code],[fiscal code].');
    expect(redactFiscalCodes('01HZZZZZZZZZZZZZZZZZZZ0001 webhook ids stay')).toBe('01HZZZZZZZZZZZZZZZZZZZ0001 webhook ids stay');
  });
});
