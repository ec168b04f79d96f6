import { describe, expect, it } from 'vitest';
import { selectConfigSource } from '../../src/core/config/select-config-source.ts';

describe('selectConfigSource', () => {
  it('answers config_unavailable naming all three variables when none is set', () => {
    // Arrange
    const env = { AUTHORIZER_BUDGET_MS: '800' };

    // Act
    const selection = selectConfigSource(env);

    // Assert
    expect(selection).toEqual({
      ok: false,
      reason: 'config_unavailable',
      detail:
        'no configuration source: set one of AUTHORIZER_CONFIG, AUTHORIZER_CONFIG_FILE, AUTHORIZER_CONFIG_PARAMETER',
    });
  });

  it('treats empty variables as unset', () => {
    // Arrange
    const env = {
      AUTHORIZER_CONFIG: '',
      AUTHORIZER_CONFIG_FILE: '',
      AUTHORIZER_CONFIG_PARAMETER: '/ahi/config',
    };

    // Act
    const selection = selectConfigSource(env);

    // Assert
    expect(selection).toEqual({ ok: true, source: { kind: 'parameter', name: '/ahi/config' } });
  });

  it('selects inline JSON from AUTHORIZER_CONFIG', () => {
    // Arrange
    const env = { AUTHORIZER_CONFIG: '{"issuers":[]}' };

    // Act
    const selection = selectConfigSource(env);

    // Assert
    expect(selection).toEqual({ ok: true, source: { kind: 'inline', text: '{"issuers":[]}' } });
  });

  it('selects a file from AUTHORIZER_CONFIG_FILE', () => {
    // Arrange
    const env = { AUTHORIZER_CONFIG_FILE: '/var/task/config.json' };

    // Act
    const selection = selectConfigSource(env);

    // Assert
    expect(selection).toEqual({ ok: true, source: { kind: 'file', path: '/var/task/config.json' } });
  });

  it('selects an SSM parameter from AUTHORIZER_CONFIG_PARAMETER', () => {
    // Arrange
    const env = { AUTHORIZER_CONFIG_PARAMETER: '/ahi/authorizer/config' };

    // Act
    const selection = selectConfigSource(env);

    // Assert
    expect(selection).toEqual({ ok: true, source: { kind: 'parameter', name: '/ahi/authorizer/config' } });
  });

  it('answers config_invalid naming the variables found when several are set', () => {
    // Arrange
    const env = { AUTHORIZER_CONFIG: '{}', AUTHORIZER_CONFIG_PARAMETER: '/ahi/config' };

    // Act
    const selection = selectConfigSource(env);

    // Assert
    expect(selection).toEqual({
      ok: false,
      reason: 'config_invalid',
      detail:
        'set exactly one of AUTHORIZER_CONFIG, AUTHORIZER_CONFIG_FILE, AUTHORIZER_CONFIG_PARAMETER (found AUTHORIZER_CONFIG, AUTHORIZER_CONFIG_PARAMETER)',
    });
  });

  it('answers config_invalid when all three are set', () => {
    // Arrange
    const env = {
      AUTHORIZER_CONFIG: '{}',
      AUTHORIZER_CONFIG_FILE: '/c.json',
      AUTHORIZER_CONFIG_PARAMETER: '/p',
    };

    // Act
    const selection = selectConfigSource(env);

    // Assert
    expect(selection).toMatchObject({ ok: false, reason: 'config_invalid' });
  });
});
