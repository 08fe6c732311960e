//! `RunningServer`: a server spawned on a loopback port the OS picks (127.0.0.1:0), with
//! the handle to stop it and wait for its drain. The protocol crates' tests and the
//! in-process benchmarks all start servers this one way.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The future a server stops on.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A spawned server.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl RunningServer {
    /// Binds 127.0.0.1:0 and spawns `serve(listener, shutdown)` on the current runtime.
    ///
    /// # Errors
    /// If the port cannot be bound.
    pub async fn spawn<F, Fut>(serve: F) -> io::Result<Self>
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown: Shutdown = Box::pin(async move {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        });
        let task = tokio::spawn(serve(listener, shutdown));
        Ok(RunningServer {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// Tells the server to shut down, without waiting.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Tells the server to shut down and waits until it has drained.
    ///
    /// # Errors
    /// What the server returned, or an error if its task panicked.
    pub async fn stop(mut self) -> io::Result<()> {
        self.signal_stop();
        (&mut self.task).await.map_err(io::Error::other)?
    }
}
