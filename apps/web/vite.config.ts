import preact from '@preact/preset-vite'
import { defineConfig } from 'vite'

// `npm run dev` talks to a standalone server on 8080 (`npm start` at the root).
const apiTarget = process.env.CHAT_API ?? 'http://127.0.0.1:8080'
const proxy = Object.fromEntries(
  ['/auth', '/users', '/chatrooms', '/direct', '/messages', '/search', '/emoji'].map((path) => [path, { target: apiTarget, changeOrigin: true }])
)

export default defineConfig({
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { ...proxy, '/ws': { target: apiTarget, ws: true, changeOrigin: true } } }
})
