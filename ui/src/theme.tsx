import { useEffect, useState } from 'react'

// Theme: "system" follows prefers-color-scheme (CSS media query); "light" and "dark" force it via html[data-theme].
// index.html applies the stored choice before the first paint, so there is no flash of the other theme.

export type ThemeChoice = 'system' | 'light' | 'dark'
const KEY = 'meshwork.theme'
const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' }

export function storedTheme (): ThemeChoice {
  const v = localStorage.getItem(KEY)
  return v === 'light' || v === 'dark' ? v : 'system'
}

export function applyTheme (t: ThemeChoice): void {
  if (t === 'system') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = t
  localStorage.setItem(KEY, t)
  window.dispatchEvent(new Event(THEME_EVENT))
}

const THEME_EVENT = 'meshwork-theme'

/** Changes whenever the effective theme may have changed (toggle or system setting): canvas charts redraw on it. */
export function useThemeVersion (): number {
  const [v, setV] = useState(0)
  useEffect(() => {
    const bump = (): void => setV(x => x + 1)
    const mq = matchMedia('(prefers-color-scheme: dark)')
    window.addEventListener(THEME_EVENT, bump)
    mq.addEventListener('change', bump)
    return () => { window.removeEventListener(THEME_EVENT, bump); mq.removeEventListener('change', bump) }
  }, [])
  return v
}

export function ThemeToggle () {
  const [theme, setTheme] = useState<ThemeChoice>(storedTheme)
  const label = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' }[theme]
  return (
    <button type='button' className='theme-toggle' data-testid='theme-toggle' data-theme-choice={theme} title='Switch theme (system → light → dark)' onClick={() => { const t = NEXT[theme]; applyTheme(t); setTheme(t) }}>
      {label}
    </button>
  )
}
