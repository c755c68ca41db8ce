import { useEffect, useState, type ReactNode } from 'react'
import { SetupPage } from './pages/Setup.tsx'
import { ModelsPage } from './pages/Models.tsx'
import { PinsPage } from './pages/Pins.tsx'
import { ModelDetailsPage } from './pages/ModelDetails.tsx'
import { SettingsPage } from './pages/Settings.tsx'
import { StatusPage } from './pages/Status.tsx'
import { PublishPage } from './pages/Publish.tsx'
import { FleetPage } from './pages/Fleet.tsx'
import { Toasts } from './toasts.tsx'

const PAGES = [
  { id: 'setup', label: 'Setup', render: () => <SetupPage /> },
  { id: 'models', label: 'Models', render: () => <ModelsPage /> },
  { id: 'publish', label: 'Publish', render: () => <PublishPage /> },
  { id: 'pins', label: 'Pins', render: () => <PinsPage /> },
  { id: 'fleet', label: 'Fleet', render: () => <FleetPage /> },
  { id: 'status', label: 'Status', render: () => <StatusPage /> },
  { id: 'settings', label: 'Settings', render: () => <SettingsPage /> }
] as const

function currentPage (): string {
  return window.location.hash.replace(/^#\/?/, '') || 'setup'
}

export function App (): ReactNode {
  const [page, setPage] = useState(currentPage())
  useEffect(() => {
    const onHash = (): void => setPage(currentPage())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  // #/models/<id>: a model's own page, under Models in the navigation.
  const detail = /^models\/(.+)$/.exec(page)
  const active = detail != null ? PAGES[1] : PAGES.find(p => p.id === page) ?? PAGES[0]
  return (
    <div className='app'>
      <header>
        <span className='brand'>Citrate <span aria-hidden='true'>·</span> IPFS</span>
        <nav aria-label='Sections'>
          {PAGES.map(p => <a key={p.id} href={`#/${p.id}`} aria-current={p.id === active.id ? 'page' : undefined}>{p.label}</a>)}
        </nav>
      </header>
      <Toasts />
      <main>{detail?.[1] != null ? <ModelDetailsPage key={detail[1]} id={decodeURIComponent(detail[1])} /> : active.render()}</main>
    </div>
  )
}
