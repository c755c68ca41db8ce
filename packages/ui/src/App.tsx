import { useEffect, useState, type ReactNode } from 'react'
import { SetupPage } from './pages/Setup.tsx'
import { ModelsPage } from './pages/Models.tsx'
import { PinsPage } from './pages/Pins.tsx'

const PAGES = [
  { id: 'setup', label: 'Setup', render: () => <SetupPage /> },
  { id: 'models', label: 'Models', render: () => <ModelsPage /> },
  { id: 'pins', label: 'Pins', render: () => <PinsPage /> }
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
  const active = PAGES.find(p => p.id === page) ?? PAGES[0]
  return (
    <div className='app'>
      <header>
        <span className='brand'>Citrate <span aria-hidden='true'>·</span> IPFS</span>
        <nav aria-label='Sections'>
          {PAGES.map(p => <a key={p.id} href={`#/${p.id}`} aria-current={p.id === active.id ? 'page' : undefined}>{p.label}</a>)}
        </nav>
      </header>
      <main>{active.render()}</main>
    </div>
  )
}
