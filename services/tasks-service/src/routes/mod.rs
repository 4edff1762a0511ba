use actix_web::web;

mod health;
mod tasks;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .service(
            web::scope("/api/tasks")
                .route("", web::get().to(tasks::list))
                .route("", web::post().to(tasks::create))
                .route("/{id}", web::get().to(tasks::get))
                .route("/{id}", web::patch().to(tasks::update))
                .route("/{id}", web::delete().to(tasks::delete)),
        );
}
