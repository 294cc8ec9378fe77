/** Starts the back end: Nest on Express with the `ws` adapter for the gateway. */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
app.useWebSocketAdapter(new WsAdapter(app));
app.enableShutdownHooks();
await app.listen(Number(process.env['PORT'] ?? 3000));
