fn main() {
    // The app's own commands get permissions of their own (allow-ipfs-connection, allow-quit-app),
    // so the capability in capabilities/default.json lists exactly what the webview may call.
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(
            tauri_build::AppManifest::new().commands(&["ipfs_connection", "quit_app"]),
        ),
    )
    .expect("tauri-build failed");
}
