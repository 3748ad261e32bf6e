fn main() {
    std::process::exit(ripen::cli::main());
}
