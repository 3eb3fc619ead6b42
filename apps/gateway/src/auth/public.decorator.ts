import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'gantry:public';

/** Marks a route as reachable without credentials. Everything else is authenticated. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
