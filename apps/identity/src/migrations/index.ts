import { eventChainMigration } from '#platform';
import { Initial1730000000000 } from './1730000000000-initial';
import { Accounts1730000001000 } from './1730000001000-accounts';
import { Machines1730000002000 } from './1730000002000-machines';
import { CiTokens1730000003000 } from './1730000003000-ci-tokens';
import { InstallTokenRunnerLabels1730000004000 } from './1730000004000-install-token-runner-labels';
import { RetiredTokenHashes1730000005000 } from './1730000005000-retired-token-hashes';
import { IdempotencyKeys1730000006000 } from './1730000006000-idempotency-keys';

/** In order; append only. */
export const IDENTITY_MIGRATIONS = [Initial1730000000000, Accounts1730000001000, Machines1730000002000, CiTokens1730000003000, InstallTokenRunnerLabels1730000004000, RetiredTokenHashes1730000005000, IdempotencyKeys1730000006000, eventChainMigration('identity')];
