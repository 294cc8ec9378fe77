/**
 * The back end: one AthenaClient (its credentials stay here), and the gateway the Angular app
 * classifies through, behind the application's SessionGuard.
 */
import { Module } from '@nestjs/common';
import { AthenaGatewayModule, AthenaModule } from 'athena-rx/nest';
import { clientCredentials } from 'athena-rx/transport';
import { SessionGuard } from './session.guard.js';

@Module({
  imports: [
    AthenaModule.forRoot({
      address: process.env['ATHENA_ADDRESS'] ?? 'api.athena-risk-intelligence.com:443',
      credentials: clientCredentials({
        clientId: process.env['ATHENA_CLIENT_ID'] ?? '',
        clientSecret: process.env['ATHENA_CLIENT_SECRET'] ?? '',
      }),
    }),
    AthenaGatewayModule.forRoot({
      path: '/athena',
      deploymentId: process.env['ATHENA_DEPLOYMENT'] ?? 'moderation',
      affiliate: process.env['ATHENA_AFFILIATE'] ?? 'acme',
      guards: [SessionGuard],
      limits: { maxInFlight: 16, ratePerSecond: 20, burst: 40 },
    }),
  ],
})
export class AppModule {}
