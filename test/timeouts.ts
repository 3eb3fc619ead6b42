import { jest } from '@jest/globals';

// Integration and e2e tests start real servers and processes; hooks need more than 5 s.
jest.setTimeout(90_000);
