//! A Tauri v2 app that runs citrate-ipfs as its sidecar, the way the Citrate app does:
//! the Rust side starts `citrate-ipfs serve --json --sidecar`, reads the first stdout line
//! (the service URL and its token file), hands URL + token to the webview through one
//! command, and stops the sidecar when the app exits. The webview then calls the service
//! over loopback HTTP with `@citrate-ipfs/client`; it gets no shell permission at all.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tauri::async_runtime::Receiver;
use tauri::{AppHandle, Manager, RunEvent, State};
use tauri_plugin_shell::process::{CommandChild, CommandEvent};
use tauri_plugin_shell::ShellExt;
use tokio::sync::watch;

/// How long the sidecar gets to close its service and stop the kubo it started
/// (kubo's own shutdown takes ~1–3 s) before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// The first line `citrate-ipfs serve --json` prints (other fields ignored; `loginUrl` is for browsers).
#[derive(Deserialize)]
struct ServeLine {
    url: String,
    #[serde(rename = "tokenFile")]
    token_file: String,
}

/// What the webview needs to call the service.
#[derive(Clone, Serialize)]
struct Connection {
    url: String,
    token: String,
}

type Ready = Option<Result<Connection, String>>;

/// The running sidecar: its handle (dropping it closes the sidecar's stdin, its stop signal),
/// whether its first line has arrived, and whether it has exited.
struct Sidecar {
    child: Mutex<Option<CommandChild>>,
    ready: watch::Receiver<Ready>,
    exited: watch::Receiver<bool>,
}

/// The service's URL and bearer token, once the sidecar has printed its first line.
#[tauri::command]
async fn ipfs_connection(sidecar: State<'_, Sidecar>) -> Result<Connection, String> {
    let mut ready = sidecar.ready.clone();
    let value = ready
        .wait_for(Option::is_some)
        .await
        .map_err(|_| "the sidecar's reader ended before the sidecar was ready".to_string())?;
    value
        .clone()
        .unwrap_or_else(|| Err("the sidecar is not ready".to_string()))
}

/// Quits the app (the sidecar is stopped on the way out, in `RunEvent::Exit`).
#[tauri::command]
fn quit_app(app: AppHandle) {
    app.exit(0);
}

fn spawn_sidecar(app: &AppHandle) -> Result<Sidecar, Box<dyn std::error::Error>> {
    // `--port 0`: a free port, so the app never collides with a `citrate-ipfs serve` the user runs;
    // the URL comes back in the first line. `--sidecar`: exit when stdin closes, stopping the kubo it started.
    let (events, child) = app
        .shell()
        .sidecar("citrate-ipfs")?
        .args(["serve", "--json", "--sidecar", "--port", "0"])
        .spawn()?;
    let (ready_tx, ready_rx) = watch::channel(None);
    let (exited_tx, exited_rx) = watch::channel(false);
    tauri::async_runtime::spawn(read_sidecar(events, ready_tx, exited_tx));
    Ok(Sidecar {
        child: Mutex::new(Some(child)),
        ready: ready_rx,
        exited: exited_rx,
    })
}

/// Reads the sidecar's output: the first stdout line is the connection, the rest (and stderr,
/// where the service logs requests) goes to this app's own stderr.
async fn read_sidecar(
    mut events: Receiver<CommandEvent>,
    ready: watch::Sender<Ready>,
    exited: watch::Sender<bool>,
) {
    let mut first = true;
    while let Some(event) = events.recv().await {
        match event {
            CommandEvent::Stdout(line) if first => {
                first = false;
                let _ = ready.send(Some(connection_from(&line)));
            }
            CommandEvent::Stdout(line) | CommandEvent::Stderr(line) => {
                eprintln!(
                    "[citrate-ipfs] {}",
                    String::from_utf8_lossy(&line).trim_end()
                );
            }
            CommandEvent::Error(e) => eprintln!("[citrate-ipfs] reading its output failed: {e}"),
            CommandEvent::Terminated(end) => {
                eprintln!(
                    "[citrate-ipfs] exited (code {:?}, signal {:?})",
                    end.code, end.signal
                );
                ready.send_if_modified(|v| {
                    if v.is_some() {
                        return false;
                    }
                    *v = Some(Err(format!(
                        "the sidecar exited before it was ready (code {:?})",
                        end.code
                    )));
                    true
                });
            }
            _ => {}
        }
    }
    let _ = exited.send(true);
}

fn connection_from(line: &[u8]) -> Result<Connection, String> {
    let first: ServeLine = serde_json::from_slice(line).map_err(|e| {
        format!(
            "the sidecar's first line is not `serve --json` output ({e}): {}",
            String::from_utf8_lossy(line)
        )
    })?;
    // The token file is mode 0600 in the user's CITRATE_HOME; the token never appears on a command line.
    let token = std::fs::read_to_string(&first.token_file)
        .map_err(|e| format!("cannot read the service token {}: {e}", first.token_file))?
        .trim()
        .to_string();
    Ok(Connection {
        url: first.url,
        token,
    })
}

/// Closes the sidecar's stdin (it then closes its service, stops the kubo it started and exits),
/// waits for it, and kills it if it has not gone within STOP_TIMEOUT.
fn stop_sidecar(app: &AppHandle) {
    let Some(sidecar) = app.try_state::<Sidecar>() else {
        return;
    };
    let Some(child) = sidecar.child.lock().map(|mut c| c.take()).unwrap_or(None) else {
        return;
    };
    let pid = child.pid();
    drop(child);
    let mut exited = sidecar.exited.clone();
    let stopped = tauri::async_runtime::block_on(async move {
        tokio::time::timeout(STOP_TIMEOUT, exited.wait_for(|gone| *gone))
            .await
            .is_ok()
    });
    if !stopped {
        eprintln!("[citrate-ipfs] did not stop within {STOP_TIMEOUT:?}; killing pid {pid}");
        force_kill(pid);
    }
}

#[cfg(unix)]
fn force_kill(pid: u32) {
    // SAFETY: kill(2) with a pid we spawned; at worst ESRCH if it has just exited.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

#[cfg(windows)]
fn force_kill(pid: u32) {
    let _ = std::process::Command::new("taskkill")
        .args(["/F", "/PID", &pid.to_string()])
        .status();
}

/// A SIGTERM (a logout, `kill`, a service manager) quits the app the orderly way, through
/// `RunEvent::Exit`, so the sidecar is stopped as on a normal quit. (Without it the app would just
/// die; the sidecar would still notice its stdin closing and stop itself and its kubo.)
#[cfg(unix)]
fn quit_on_sigterm(app: AppHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    tauri::async_runtime::spawn(async move {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                app.exit(0);
            }
            Err(e) => eprintln!("cannot listen for SIGTERM: {e}"),
        }
    });
}

#[cfg(not(unix))]
fn quit_on_sigterm(_app: AppHandle) {}

pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_shell::init())
        .setup(|app| {
            let sidecar = spawn_sidecar(app.handle())?;
            app.manage(sidecar);
            quit_on_sigterm(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![ipfs_connection, quit_app])
        .build(tauri::generate_context!())
        .expect("could not build the Tauri app")
        .run(|app, event| {
            if let RunEvent::Exit = event {
                stop_sidecar(app);
            }
        });
}
