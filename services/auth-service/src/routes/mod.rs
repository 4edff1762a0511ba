use actix_web::web;

mod health;
mod sign_in;
mod tokens;
mod well_known;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/.well-known/jwks.json", web::get().to(well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(well_known::openid_configuration),
        )
        .service(
            web::scope("/api/auth")
                .route("/sign-up", web::post().to(sign_in::sign_up))
                .route("/sign-in", web::post().to(sign_in::sign_in))
                .route("/refresh", web::post().to(tokens::refresh))
                .route("/me", web::get().to(tokens::me)),
        );
}
