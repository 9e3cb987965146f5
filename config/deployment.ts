// Where a university runs Lectern. Owned by the deploy work (infra/); the server ignores it and the
// audit reads it. Kept in the one config schema so a stack file and a server file cannot disagree.
import { Type, type Static } from '@sinclair/typebox';

/** ISO 3166-1 alpha-2 country code the deployment must stay in. */
export const CountryCodeSchema = Type.String({ pattern: '^[A-Z]{2}$' });

export const DeploymentSchema = Type.Object(
  {
    country: CountryCodeSchema,
  },
  { additionalProperties: false },
);

export type DeploymentConfig = Static<typeof DeploymentSchema>;
