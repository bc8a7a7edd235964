/* placeholder until the backup tests land */
int main(void) { return 77; }
