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
    expect(redactFiscalCodes('x-RSSNNA80A41H501X0123456789 and RSSNNA80A41H501Xabc')).toBe('x-[fiscal code]0123456789 and [fiscal code]abc');
  });

  it('keeps a ULID whole even where 16 of its characters are shaped like a fiscal code', () => {
    // The shape of an event id a CI run printed as "01M94[fiscal code]KX4ZF" (`ping-all --json`).
    const id = '01M94RSSNNA80A41H501XKX4ZF';
    expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    expect(redactFiscalCodes(`{"id":"${id}"} event ${id}\n${id.toLowerCase()}`)).toBe(`{"id":"${id}"} event ${id}\n${id.toLowerCase()}`);
    // Not a ULID (27 characters, or an 8 first): the code in it is redacted.
    expect(redactFiscalCodes(`${id}Q 81M94RSSNNA80A41H501XKX4ZF`)).toBe('01M94[fiscal code]KX4ZFQ 81M94[fiscal code]KX4ZF');
  });
});
